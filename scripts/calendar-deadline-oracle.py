#!/usr/bin/env python3
"""An independent Python implementation of the documentation deadline rule
(DOMAIN.md §5; Ley 39/2015 art. 30), reading a calendar JSON file. It shares no
code with the Rust crate: it is the oracle that the expectations of the
default-calendar conformance scenarios were computed with, and it checks them.

    # one deadline, with the non-business days it skipped
    scripts/calendar-deadline-oracle.py deadline 41 41 2026-10-27 10 business
    scripts/calendar-deadline-oracle.py deadline 28 08 2026-12-23 10 business --compare-national
    # replay scenario files: every expected deadline, and every `at` offset
    scripts/calendar-deadline-oracle.py verify casia-conformance/scenarios/2[678]_*.json
    # how many 2026 deadlines the new default calendar changes against HEAD's
    scripts/calendar-deadline-oracle.py stats
    # compare the province -> community map with casia-core/src/ids.rs
    scripts/calendar-deadline-oracle.py rust-map

Python 3.11, standard library only (zoneinfo needs the system's tz database).

The rule:
  * business, n days: the n-th business day after d0, counting from d0 + 1;
  * calendar, n days: d0 + n, moved forward to the next business day if it is not one;
  * business day: Monday-Friday and not in national ∪ regional(community of the
    authorization's province) ∪ regional(community of the office) ∪ local(office);
  * a year the calendar does not cover (its `years`, else the years of the dates it
    lists; no date at all covers every year): weekends and the days of RD 2001/1983
    art. 45.1 (1 Jan, Good Friday, 1 May, 15 Aug, 12 Oct, 1 Nov, 6 Dec, 8 Dec,
    25 Dec) are non-business;
  * d0 is the Europe/Madrid date of the request instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
from zoneinfo import ZoneInfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CALENDAR = os.path.join(ROOT, "casia-core", "data", "default_calendar.json")
DEFAULT_CATALOG = os.path.join(ROOT, "casia-core", "data", "default_catalog.json")
IDS_RS = os.path.join(ROOT, "casia-core", "src", "ids.rs")
MADRID = ZoneInfo("Europe/Madrid")

# INE province code -> ISO 3166-2 code of its autonomous community / city.
_COMMUNITY_PROVINCES = {
    "ES-AN": "04 11 14 18 21 23 29 41",  # Almería Cádiz Córdoba Granada Huelva Jaén Málaga Sevilla
    "ES-AR": "22 44 50",  # Huesca Teruel Zaragoza
    "ES-AS": "33",  # Asturias
    "ES-IB": "07",  # Illes Balears
    "ES-CN": "35 38",  # Las Palmas, Santa Cruz de Tenerife
    "ES-CB": "39",  # Cantabria
    "ES-CL": "05 09 24 34 37 40 42 47 49",  # Ávila Burgos León Palencia Salamanca Segovia Soria Valladolid Zamora
    "ES-CM": "02 13 16 19 45",  # Albacete Ciudad Real Cuenca Guadalajara Toledo
    "ES-CT": "08 17 25 43",  # Barcelona Girona Lleida Tarragona
    "ES-VC": "03 12 46",  # Alicante Castellón Valencia
    "ES-EX": "06 10",  # Badajoz Cáceres
    "ES-GA": "15 27 32 36",  # A Coruña Lugo Ourense Pontevedra
    "ES-MD": "28",
    "ES-MC": "30",
    "ES-NC": "31",
    "ES-PV": "01 20 48",  # Araba/Álava Gipuzkoa Bizkaia
    "ES-RI": "26",
    "ES-CE": "51",
    "ES-ML": "52",
}
PROVINCE_COMMUNITY = {p: c for c, ps in _COMMUNITY_PROVINCES.items() for p in ps.split()}
assert sorted(PROVINCE_COMMUNITY) == [f"{i:02}" for i in range(1, 53)], "52 provinces, each once"

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def easter(year: int) -> dt.date:
    """Easter Sunday, Gregorian (Gauss's algorithm with the Lichtenberg corrections)."""
    k = year // 100
    m = 15 + (3 * k + 3) // 4 - (8 * k + 13) // 25
    s = 2 - (3 * k + 3) // 4
    a = year % 19
    d = (19 * a + m) % 30
    r = (d + a // 11) // 29
    og = 21 + d - r
    sz = 7 - (year + year // 4 + s) % 7
    oe = 7 - (og - sz) % 7
    return dt.date(year, 3, 1) + dt.timedelta(days=og + oe - 1)


def unmovable(d: dt.date) -> str | None:
    """RD 2001/1983 art. 45.1 days, the only holidays of a year a calendar does not cover."""
    fixed = {
        (1, 1): "Año Nuevo", (5, 1): "Fiesta del Trabajo", (8, 15): "Asunción de la Virgen",
        (10, 12): "Fiesta Nacional de España", (11, 1): "Todos los Santos",
        (12, 6): "Día de la Constitución Española", (12, 8): "Inmaculada Concepción",
        (12, 25): "Natividad del Señor",
    }  # fmt: skip
    if (d.month, d.day) in fixed:
        return fixed[(d.month, d.day)]
    if d == easter(d.year) - dt.timedelta(days=2):
        return "Viernes Santo"
    return None


class Calendar:
    def __init__(self, doc: dict, label: str = "calendar"):
        self.label = label
        self.national = self._days(doc.get("national"))
        self.regional = {c: self._days(v) for c, v in (doc.get("regional") or {}).items()}
        self.local = {p: self._days(v) for p, v in (doc.get("local") or {}).items()}
        if "years" in doc:
            self.years: set[int] | None = set(doc["years"])
        else:
            every = list(self.national) + [
                d for m in (*self.regional.values(), *self.local.values()) for d in m
            ]
            self.years = {d.year for d in every} or None  # None: covers every year

    @staticmethod
    def _days(entries) -> dict[dt.date, str]:
        out = {}
        for e in entries or []:
            if isinstance(e, str):
                out[dt.date.fromisoformat(e)] = ""
            else:
                out[dt.date.fromisoformat(e["date"])] = e.get("name") or ""
        return out

    @classmethod
    def load(cls, path: str) -> "Calendar":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f), path)

    @classmethod
    def from_git(cls, rev: str, path: str = "casia-core/data/default_calendar.json") -> "Calendar":
        text = subprocess.run(
            ["git", "-C", ROOT, "show", f"{rev}:{path}"], check=True, capture_output=True, text=True
        ).stdout
        return cls(json.loads(text), f"{rev}:{path}")

    def covers(self, year: int) -> bool:
        return self.years is None or year in self.years

    def reasons(self, d: dt.date, province: str, office: str) -> list[str]:
        """Why `d` is not a business day for a case (empty: it is one)."""
        why = []
        if d.weekday() >= 5:
            why.append(WEEKDAYS[d.weekday()])
        if not self.covers(d.year):
            if name := unmovable(d):
                why.append(f"uncovered year, RD 2001/1983 art. 45.1: {name}")
            return why
        def named(scope: str, name: str) -> str:
            return f"{scope}: {name}" if name else scope

        if d in self.national:
            why.append(named("national", self.national[d]))
        for c in dict.fromkeys((PROVINCE_COMMUNITY[province], PROVINCE_COMMUNITY[office])):
            if d in self.regional.get(c, {}):
                why.append(named(c, self.regional[c][d]))
        if d in self.local.get(office, {}):
            why.append(named(f"local {office}", self.local[office][d]))
        return why

    def is_business(self, d: dt.date, province: str, office: str) -> bool:
        return not self.reasons(d, province, office)

    def deadline(
        self, d0: dt.date, n: int, unit: str, province: str, office: str
    ) -> tuple[dt.date, list[tuple[dt.date, list[str]]]]:
        """The deadline, and the non-business days it skipped (with why)."""
        skipped = []
        if unit == "business":
            d, left = d0, n
            while left:
                d += dt.timedelta(days=1)
                why = self.reasons(d, province, office)
                if why:
                    skipped.append((d, why))
                else:
                    left -= 1
            return d, skipped
        if unit == "calendar":
            d = d0 + dt.timedelta(days=n)
            while why := self.reasons(d, province, office):
                skipped.append((d, why))
                d += dt.timedelta(days=1)
            return d, skipped
        raise ValueError(f"unit {unit!r}")


def national_only(cal: Calendar) -> Calendar:
    """The same calendar without its regional and local days."""
    doc = {"national": [{"date": d.isoformat(), "name": n} for d, n in cal.national.items()]}
    if cal.years is not None:
        doc["years"] = sorted(cal.years)
    return Calendar(doc, f"{cal.label} (national only)")


def fmt(d: dt.date) -> str:
    return f"{d.isoformat()} {WEEKDAYS[d.weekday()]}"


def explain(cal: Calendar, d0, n, unit, province, office) -> str:
    d, skipped = cal.deadline(d0, n, unit, province, office)
    lines = [
        f"d0 {fmt(d0)}, {n} {unit} days, authorization province {province} "
        f"({PROVINCE_COMMUNITY[province]}), office {office} ({PROVINCE_COMMUNITY[office]}) "
        f"-> {fmt(d)}"
    ]
    for s, why in skipped:
        if not (len(why) == 1 and why[0] in ("Sat", "Sun")):
            lines.append(f"  skipped {fmt(s)}: {'; '.join(why)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ scenarios


def _policies(catalog: dict) -> dict[str, tuple[int, str]]:
    defaults = {"inquiry": (20, "calendar"), "incident": (20, "calendar"), "procedure": (10, "business")}
    out = dict(defaults)
    for ct in catalog.get("case_types", []):
        if "deadline" in ct:
            out[ct["code"]] = (ct["deadline"]["days"], ct["deadline"]["unit"])
    return out


def verify(paths: list[str], calendar_path: str) -> int:
    """Replay each scenario's routing and check every deadline it expects after a
    request_information, and every non-UTC `at` offset against Europe/Madrid."""
    with open(DEFAULT_CATALOG, encoding="utf-8") as f:
        default_catalog = json.load(f)
    default_cal = Calendar.load(calendar_path)
    failures = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            sc = json.load(f)
        cal = Calendar(sc["calendar"], "scenario calendar") if "calendar" in sc else default_cal
        policies = _policies(sc.get("catalog", default_catalog))
        cases: dict[str, dict] = {}
        numbers = 0
        last = None
        problems = []
        checked = 0
        for i, step in enumerate(sc["steps"], 1):
            at = dt.datetime.fromisoformat(step["at"])
            # An explicit non-UTC offset is meant to be Madrid's: catch DST slips.
            if at.utcoffset() not in (dt.timedelta(0), at.astimezone(MADRID).utcoffset()):
                problems.append(
                    f"step {i}: {step['at']} has offset {at.utcoffset()}, Madrid's is "
                    f"{at.astimezone(MADRID).utcoffset()}"
                )
            if last and at < last:
                problems.append(f"step {i}: time goes backwards")
            last = at
            d0 = at.astimezone(MADRID).date()
            expect = step.get("expect", {})
            if "error" in expect:
                continue
            verb, actor = step["do"], step["as"]
            case = cases.get(step.get("case"))
            if verb == "submit":
                numbers += 1
                c = {
                    "type": step["with"]["case_type"],
                    "province": actor["province"],
                    "office": actor["province"],
                    "deadline": None,
                }
                if "save_as" in step:
                    cases[step["save_as"]] = c
                if expect.get("office", c["office"]) != c["office"]:
                    problems.append(f"step {i}: office {expect['office']}, routing gives {c['office']}")
                continue
            if case is None:
                continue
            if verb == "transfer":
                case["office"] = step["with"]["office"]
                case["deadline"] = None
            elif verb == "request_information":
                n, unit = policies[case["type"]]
                d, _ = cal.deadline(d0, n, unit, case["province"], case["office"])
                case["deadline"] = d.isoformat()
            elif verb in ("add_documentation", "resolve", "cancel"):
                case["deadline"] = None
            if "deadline" in expect:
                checked += 1
                if expect["deadline"] != case["deadline"]:
                    problems.append(
                        f"step {i} ({verb} {step.get('case')}): expects {expect['deadline']}, "
                        f"the oracle gives {case['deadline']}"
                    )
            if "office" in expect and expect["office"] != case["office"]:
                problems.append(f"step {i}: office {expect['office']}, oracle {case['office']}")
        name = os.path.basename(path)
        if problems:
            failures += 1
            print(f"FAILED {name}")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"ok {name} ({checked} deadline expectations)")
    return 1 if failures else 0


# ---------------------------------------------------------------------- stats


def stats(old: Calendar, new: Calendar, year: int) -> None:
    """Every date of `year` as d0, every province as both authorization province and
    office, both default policies: how many deadlines differ between old and new."""
    policies = [(10, "business"), (20, "calendar")]
    d0s = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
    provinces = sorted(PROVINCE_COMMUNITY)
    print(f"old: {old.label}; new: {new.label}")
    grand = [0, 0, 0, 0]
    for n, unit in policies:
        total = changed = later = earlier = 0
        for p in provinces:
            for d0 in d0s:
                a, _ = old.deadline(d0, n, unit, p, p)
                b, _ = new.deadline(d0, n, unit, p, p)
                total += 1
                if a != b:
                    changed += 1
                    later += b > a
                    earlier += b < a
        for k, v in enumerate((total, changed, later, earlier)):
            grand[k] += v
        print(
            f"{n} {unit} days: {changed}/{total} changed ({100 * changed / total:.2f}%), "
            f"{later} later ({100 * later / total:.2f}%), {earlier} earlier"
        )
    total, changed, later, earlier = grand
    print(
        f"both policies: {changed}/{total} changed ({100 * changed / total:.2f}%), "
        f"{later} later ({100 * later / total:.2f}%), {earlier} earlier "
        f"({len(d0s)} start dates x {len(provinces)} provinces x {len(policies)} policies)"
    )


# -------------------------------------------------------------------- rust map


def rust_map(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        src = f.read()
    iso = dict(re.findall(r"Community::(\w+)\s*=>\s*\"(ES-[A-Z]{2})\"", src))
    block = re.search(r"PROVINCE_COMMUNITY[^=]*=\s*\{(.*?)\n\};", src, re.S)
    if not block or len(iso) != 19:
        print(f"{path}: could not find the 19 ISO codes and the PROVINCE_COMMUNITY table")
        return 1
    rows = re.findall(r"^\s*(\w+),\s*//\s*(\d{2})\b(.*)$", block.group(1), re.M)
    bad = 0
    if [r[1] for r in rows] != [f"{i:02}" for i in range(1, 53)]:
        print(f"{path}: the table's comments do not run 01..52 in order")
        bad += 1
    for k, (variant, code, label) in enumerate(rows, 1):
        rust = iso.get(variant)
        mine = PROVINCE_COMMUNITY[f"{k:02}"]
        if rust != mine:
            print(f"  {k:02} ({label.strip()}): Rust {variant} = {rust}, oracle {mine}")
            bad += 1
    print(f"{path}: {len(rows)} provinces, {bad} disagreement(s) with the oracle's map")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deadline", help="one deadline, with what it skipped")
    d.add_argument("province")
    d.add_argument("office")
    d.add_argument("d0", type=dt.date.fromisoformat)
    d.add_argument("days", type=int)
    d.add_argument("unit", choices=["business", "calendar"])
    d.add_argument("--calendar", default=DEFAULT_CALENDAR)
    d.add_argument("--compare-national", action="store_true",
                   help="also give the deadline with the national days only")
    v = sub.add_parser("verify", help="check the deadlines scenario files expect")
    v.add_argument("files", nargs="+")
    v.add_argument("--calendar", default=DEFAULT_CALENDAR, help="the default calendar")
    s = sub.add_parser("stats", help="share of deadlines the new calendar changes")
    s.add_argument("--old", help="old calendar file (default: git HEAD's default calendar)")
    s.add_argument("--old-rev", default="HEAD")
    s.add_argument("--new", default=DEFAULT_CALENDAR)
    s.add_argument("--year", type=int, default=2026)
    s.add_argument("--old-with-regional", action="store_true",
                   help="keep the old file's regional and local days (default: its national days only)")
    r = sub.add_parser("rust-map", help="compare the province map with ids.rs")
    r.add_argument("path", nargs="?", default=IDS_RS)
    a = ap.parse_args(argv)
    if a.cmd == "deadline":
        for p in (a.province, a.office):
            if p not in PROVINCE_COMMUNITY:
                ap.error(f"not a province code 01-52: {p}")
        cal = Calendar.load(a.calendar)
        print(explain(cal, a.d0, a.days, a.unit, a.province, a.office))
        if a.compare_national:
            only = national_only(cal)
            got, _ = only.deadline(a.d0, a.days, a.unit, a.province, a.office)
            print(f"  national days only: {fmt(got)}")
        return 0
    if a.cmd == "verify":
        return verify(a.files, a.calendar)
    if a.cmd == "stats":
        old = Calendar.load(a.old) if a.old else Calendar.from_git(a.old_rev)
        if not a.old_with_regional:
            old = national_only(old)
        stats(old, Calendar.load(a.new), a.year)
        return 0
    if a.cmd == "rust-map":
        return rust_map(a.path)
    return 2


if __name__ == "__main__":
    sys.exit(main())
