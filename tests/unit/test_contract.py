from riskwatch.ingest.contract import TABLES, Kind, warehouse_columns


def test_every_key_column_is_in_its_table() -> None:
    for table in TABLES.values():
        names = {c.name for c in table.columns}
        assert set(table.key) <= names, table.name
        if table.known_on:
            assert table.column(table.known_on).kind is Kind.DATE


def test_headers_are_unique_within_a_table() -> None:
    for table in TABLES.values():
        headers = [h for c in table.columns for h in c.headers]
        assert len(headers) == len(set(headers)), table.name


def test_warehouse_columns_carry_lineage() -> None:
    cols = dict(warehouse_columns(TABLES["penalties"]))
    assert cols["penalty_kinds"] == "VARCHAR[]"
    assert cols["_load_id"] == "VARCHAR"
    assert cols["_source_line"] == "BIGINT"
