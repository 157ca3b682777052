"""A list then an export on one thread's cursor (the export used to fail: cursor in use)."""

from __future__ import annotations

from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store.enterprise_reads import (
    ListQuery,
    WarehouseReader,
    export_enterprises,
    list_enterprises,
)
from tests.conftest import ENTERPRISE_HEADER, CityFolder, enterprise_row


def test_export_after_a_list_on_the_same_cursor(settings: Settings, city: CityFolder) -> None:
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(i) for i in range(1, 6)])
    IngestService(settings).run(city.root)
    reader = WarehouseReader(settings.warehouse_path)
    try:
        cur = reader.cursor()
        total, rows = list_enterprises(cur, "41", ListQuery(), limit=2, offset=0)
        assert (total, len(rows)) == (5, 2)
        # Another read on this thread leaves its result unfinished (fetchone of many rows).
        assert cur.execute("SELECT uscc FROM enterprises").fetchone() is not None
        exported = export_enterprises(cur, "41", ListQuery(), max_rows=100)
        assert exported.num_rows == 5
        assert list_enterprises(cur, "410105", ListQuery(), limit=10, offset=0)[0] == 5
    finally:
        reader.close()
