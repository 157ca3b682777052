"""Tags (对象标签、表现标签、分类标签): manual ones, and rule-made ones from a screening rule.

Tagging is a change: it is audited. Members are listed only within the caller's scope,
and a user can tag only enterprises inside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riskwatch.auth.config import ServiceSettings
from riskwatch.auth.scope import Principal, Role
from riskwatch.auth.tokens import now
from riskwatch.errors import ConflictError, InputError, NotFoundError
from riskwatch.services import audit
from riskwatch.services.screening import parse_rule
from riskwatch.settings import Settings
from riskwatch.store import enterprise_reads as reads
from riskwatch.store.models import screening as store
from riskwatch.store.models.users import DbSession, service_session

KINDS = {"object": "对象标签", "behaviour": "表现标签", "class": "分类标签"}
RULE_TAG_LIMIT = 1_000_000


class TagService:
    """Tag definitions and their members."""

    def __init__(
        self, settings: Settings, service: ServiceSettings, reader: reads.WarehouseReader
    ) -> None:
        self.settings = settings
        self.service = service
        self.reader = reader

    def definitions(self) -> list[dict[str, Any]]:
        """Every tag definition."""
        with service_session(self.settings) as s:
            return [
                {"name": t.name, "kind": t.kind, "kind_zh": KINDS.get(t.kind, t.kind),
                 "rule": t.rule, "created_by": t.created_by}
                for t in store.all_tags(s)
            ]  # fmt: skip

    def create(
        self, who: Principal, name: str, kind: str, rule: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Define a tag (analysts and admins); a rule tree makes it rule-made."""
        who.require(Role.ADMIN, Role.ANALYST)
        if kind not in KINDS:
            raise InputError(f"kind must be one of {sorted(KINDS)}")
        if not 1 <= len(name.strip()) <= 64:
            raise InputError("a tag name has 1–64 characters")
        if rule is not None:
            from riskwatch.services.screening import compile_rule

            compile_rule(parse_rule(rule), dt.date.today(), lambda _n: [])
        with service_session(self.settings) as s:
            if store.tag_by_name(s, name) is not None:
                raise ConflictError(f"tag {name!r} exists")
            s.add(store.Tag(name=name.strip(), kind=kind, rule=rule, created_by=who.name,
                            created_at=now()))  # fmt: skip
        audit.record(self.settings, self.service, who.name, "tag.create", name, {"kind": kind})
        return {"name": name, "kind": kind, "rule": rule}

    def members(self, who: Principal, name: str) -> list[str]:
        """The enterprises carrying a tag, within the caller's scope."""
        with service_session(self.settings) as s:
            tag = store.tag_by_name(s, name)
            if tag is None:
                raise NotFoundError(f"no tag {name!r}")
            return store.members(s, tag.id, who.prefix)

    def tag(self, who: Principal, name: str, usccs: list[str], remove: bool = False) -> int:
        """Put a manual tag on (or take it off) enterprises in the caller's scope."""
        who.require(Role.ADMIN, Role.ANALYST, Role.INSPECTOR)
        usccs = sorted({u.strip().upper() for u in usccs})
        if not 1 <= len(usccs) <= 10_000:
            raise InputError("tag 1–10000 enterprises at a time")
        regions = reads.regions_of(self.reader.cursor(), usccs)
        outside = [u for u in usccs if not who.sees(regions.get(u))]
        if outside:
            raise NotFoundError(f"no enterprise {outside[0]} in your region")
        with service_session(self.settings) as s:
            tag = store.tag_by_name(s, name)
            if tag is None:
                raise NotFoundError(f"no tag {name!r}")
            if remove:
                n = store.untag(s, tag.id, usccs)
            else:
                have = store.existing(s, tag.id)
                new = [u for u in usccs if u not in have]
                s.add_all(
                    store.EnterpriseTag(tag_id=tag.id, uscc=u, region=regions[u], source="manual",
                                        created_by=who.name, created_at=now())
                    for u in new
                )  # fmt: skip
                n = len(new)
        action = "tag.remove" if remove else "tag.add"
        audit.record(self.settings, self.service, who.name, action, name, {"enterprises": n})
        return n

    def apply_rule(self, who: Principal, name: str, as_of: dt.date | None = None) -> int:
        """Re-apply a rule-made tag over the caller's scope; returns the members now."""
        from riskwatch.services.screening import compile_rule

        who.require(Role.ADMIN, Role.ANALYST)
        with service_session(self.settings) as s:
            tag = store.tag_by_name(s, name)
            if tag is None or tag.rule is None:
                raise NotFoundError(f"no rule-made tag {name!r}")
            tag_id, rule = tag.id, tag.rule
        sql, params = compile_rule(parse_rule(rule), as_of or dt.date.today(), lambda _n: [])
        query = reads.ListQuery(where_sql=sql, where_params=tuple(params))
        table = reads.export_enterprises(self.reader.cursor(), who.prefix, query, RULE_TAG_LIMIT)
        found = dict(zip(table.column("uscc").to_pylist(), table.column("region_code").to_pylist(),
                         strict=True))  # fmt: skip
        with service_session(self.settings) as s:
            have = store.existing(s, tag_id)
            gone = [u for u in store.members(s, tag_id, who.prefix) if u not in found]
            store.untag(s, tag_id, gone, source="rule")
            s.add_all(
                store.EnterpriseTag(tag_id=tag_id, uscc=u, region=r, source="rule",
                                    created_by=who.name, created_at=now())
                for u, r in found.items() if u not in have
            )  # fmt: skip
        audit.record(
            self.settings, self.service, who.name, "tag.apply", name, {"members": len(found)}
        )
        return len(found)

    @staticmethod
    def on(session: DbSession, uscc: str) -> list[dict[str, str]]:
        """Tags on one enterprise (the caller checked the scope), in the caller's session."""
        return [{"name": n, "kind": k, "source": src} for n, k, src in store.tags_on(session, uscc)]
