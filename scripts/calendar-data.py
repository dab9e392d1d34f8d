#!/usr/bin/env python3
"""Build (or check) casia-core/data/default_calendar.json, the shipped holiday
calendar of the documentation deadline rule (DOMAIN.md §5, Ley 39/2015 art. 30),
from the Python package `holidays` (holidays.ES).

    python3 scripts/calendar-data.py            # same as --check
    python3 scripts/calendar-data.py --check    # print every difference, exit 1 if any
    python3 scripts/calendar-data.py --write    # rewrite the JSON file

Needs Python 3.11 and `holidays`; the file was last written with the version in
HOLIDAYS_VERSION (a different version still runs, with a warning, and --check then
shows what the new version would change):

    python3.11 -m venv ~/.cache/casia-holidays-venv
    ~/.cache/casia-holidays-venv/bin/pip install holidays==0.109
    ~/.cache/casia-holidays-venv/bin/python scripts/calendar-data.py --check

What the file holds, for YEARS:
  * every community's days are the package's days for that subdivision (Spanish
    names), *plus* the days the package drops because they fall on a Sunday (with
    observed=True it removes a Sunday holiday, or moves it to the Monday). Keeping
    the Sunday keeps the lists faithful to the BOE, which lists e.g. 1 Nov 2026
    (a Sunday) as a national holiday; a Sunday is non-business anyway, so it
    changes no deadline. Saturday holidays are kept as published too.
  * `national`: the days that are holidays in all 19 communities;
  * `regional[ES-XX]`: that community's other days, including the Monday a
    community takes in place of a national day that falls on a Sunday;
  * CORRECTIONS below are applied on top of the package, each with its source;
  * `sources`: per year, "final" (checked against the BOE resolution named in
    `reference`) or "provisional" (the package's rules, not yet checked).

Ceuta and Melilla are single municipalities: their lists include their local
days, as the package has them (DOMAIN.md §5). Navarra's 3 December (San
Francisco Javier) is one of Navarra's two local days but is fixed for the whole
Comunidad Foral and declared inhábil by the Navarra Government's yearly decree
of días inhábiles, so it stays in ES-NC although the BOE annex does not list it.

Adding a year: add it to YEARS and SOURCES (status "provisional" until the
year's *relación de fiestas laborales* is out in the BOE, normally in October of
the year before), run --check, compare every community with the BOE annex, add a
CORRECTION for any day the package gets wrong, then --write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

HOLIDAYS_VERSION = "0.109"  # the version the committed file was written with
YEARS = (2024, 2025, 2026, 2027)
# holidays.ES subdivision codes of the 17 communities and the 2 autonomous cities
# (ISO 3166-2:ES without the "ES-" prefix).
SUBDIVISIONS = (
    "AN", "AR", "AS", "CB", "CE", "CL", "CM", "CN", "CT", "EX",
    "GA", "IB", "MC", "MD", "ML", "NC", "PV", "RI", "VC",
)  # fmt: skip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "casia-core", "data", "default_calendar.json")

# Where each year comes from. `reference` is free text for people; the loader
# reads `status` and `reference` only.
SOURCES = {
    2024: {
        "status": "final",
        "reference": "BOE-A-2023-22014: Resolución de 23 de octubre de 2023, de la Dirección "
        "General de Trabajo, por la que se publica la relación de fiestas laborales para el "
        "año 2024 (BOE de 27 de octubre de 2023)",
    },
    2025: {
        "status": "final",
        "reference": "BOE-A-2024-21316: Resolución de 15 de octubre de 2024, de la Dirección "
        "General de Trabajo, por la que se publica la relación de fiestas laborales para el "
        "año 2025 (BOE núm. 252, de 18 de octubre de 2024)",
    },
    2026: {
        "status": "final",
        "reference": "BOE-A-2025-21667: Resolución de 17 de octubre de 2025, de la Dirección "
        "General de Trabajo, por la que se publica la relación de fiestas laborales para el "
        "año 2026 (BOE de 28 de octubre de 2025)",
    },
    2027: {
        "status": "provisional",
        "reference": "not yet checked against the BOE: the days the holidays package computes "
        "from its rules (it checks its data against official sources up to 2026 only); replace "
        "with the relación de fiestas laborales para el año 2027 of the Dirección General de "
        "Trabajo once checked",
    },
}

# Days the package gets wrong, fixed here: (community, date, "add"/"remove", name, why).
CORRECTIONS = [
    (
        "ES-CE",
        "2024-09-02",
        "remove",
        None,
        "Día de Ceuta was not a holiday in 2024: Ceuta's 2024 calendar has 14 days, the BOE's "
        "12 plus Eid al-Fitr (10 Apr) and San Antonio (13 Jun); the employers' association "
        "refused 2 September (El Faro de Ceuta; Ceuta TV, 26 Sep 2024: 'tampoco será festivo "
        "[en 2025], como ya ha ocurrido en este 2024'). holidays 0.109 leaves it out in 2025 "
        "but not in 2024.",
    ),
]


def _holidays():
    try:
        import holidays  # noqa: PLC0415
    except ImportError:
        sys.exit(
            "calendar-data: the Python package `holidays` is missing; see the header of "
            "scripts/calendar-data.py for the venv it runs in"
        )
    if holidays.__version__ != HOLIDAYS_VERSION:
        print(
            f"calendar-data: warning: holidays {holidays.__version__} is installed, the file "
            f"was written with {HOLIDAYS_VERSION}",
            file=sys.stderr,
        )
    return holidays


def community_days(holidays, subdiv: str, year: int) -> dict[dt.date, str]:
    """The days of one community in one year: the package's days, plus the days it
    drops because they fall on a Sunday (see the module doc)."""
    seen = holidays.ES(subdiv=subdiv, years=year, language="es")
    raw = holidays.ES(subdiv=subdiv, years=year, language="es", observed=False)
    days = dict(seen.items())
    for d, name in raw.items():
        if d in days:
            continue
        if d.weekday() != 6:  # only Sundays are expected to be dropped
            raise SystemExit(
                f"calendar-data: ES-{subdiv} {d}: holidays gives {name!r} without "
                "observed rules but not with them, and it is not a Sunday; check the package"
            )
        days[d] = name
    return {d: n for d, n in days.items() if d.year == year}


def build(holidays) -> dict:
    corrections = {(c, d): (action, name) for c, d, action, name, _ in CORRECTIONS}
    national: dict[dt.date, str] = {}
    regional: dict[str, dict[dt.date, str]] = {f"ES-{s}": {} for s in SUBDIVISIONS}
    for year in YEARS:
        per = {}
        for s in SUBDIVISIONS:
            code = f"ES-{s}"
            days = community_days(holidays, s, year)
            for (c, d), (action, name) in corrections.items():
                day = dt.date.fromisoformat(d)
                if c != code or day.year != year:
                    continue
                if action == "remove":
                    if day not in days:
                        raise SystemExit(f"calendar-data: correction {c} {d}: not in the package")
                    del days[day]
                else:
                    days[day] = name
            per[code] = days
        common = set.intersection(*(set(d) for d in per.values()))
        # The national day's name: the package's name for the whole country.
        country = holidays.ES(years=year, language="es", observed=False)
        for d in common:
            national[d] = country.get(d) or per["ES-MD"][d]
        for code, days in per.items():
            regional[code].update({d: n for d, n in days.items() if d not in common})
    about = (
        "Non-business days of the documentation deadline rule (DOMAIN.md §5; Ley 39/2015 art. "
        "30): the fiestas laborales of Spain's 17 autonomous communities and of Ceuta and "
        f"Melilla for {YEARS[0]}-{YEARS[-1]}, as the BOE publishes them each year. Generated by "
        f"scripts/calendar-data.py from the Python package holidays {HOLIDAYS_VERSION} "
        "(holidays.ES, Spanish names); do not edit by hand. national: the days that are "
        "holidays in all 19; regional: each community's other days, including the Monday it "
        "takes for a national day falling on a Sunday. Days falling on a weekend are listed as "
        "published (they change no deadline). Ceuta and Melilla include their local days; "
        "ES-NC includes 3 December (fixed for all of Navarra, declared inhábil by its Government). "
        "sources: per year, final (checked against the BOE resolution) or provisional (the "
        "package's rules, not yet checked). Corrections to the package: "
        + "; ".join(f"{c} {d} {a}d" for c, d, a, _, _ in CORRECTIONS)
        + " (see the script)."
    )
    return {
        "about": about,
        "years": list(YEARS),
        "national": [{"date": d.isoformat(), "name": national[d]} for d in sorted(national)],
        "regional": {
            code: [{"date": d.isoformat(), "name": days[d]} for d in sorted(days)]
            for code, days in sorted(regional.items())
        },
        "sources": {str(y): dict(SOURCES[y]) for y in YEARS},
        "local": {},
    }


def render(doc: dict) -> str:
    """The file's text: one date per line, keys in a fixed order, UTF-8."""

    def j(v) -> str:
        return json.dumps(v, ensure_ascii=False)

    def day_list(days: list, indent: str) -> str:
        if not days:
            return "[]"
        inner = ",\n".join(f"{indent}  {j(x)}" for x in days)
        return f"[\n{inner}\n{indent}]"

    out = ["{"]
    out.append(f'  "about": {j(doc["about"])},')
    out.append(f'  "years": {j(doc["years"])},')
    out.append(f'  "national": {day_list(doc["national"], "  ")},')
    regional = ",\n".join(
        f"    {j(code)}: {day_list(days, '    ')}" for code, days in doc["regional"].items()
    )
    out.append(f'  "regional": {{\n{regional}\n  }},')
    sources = ",\n".join(f"    {j(y)}: {j(s)}" for y, s in doc["sources"].items())
    out.append(f'  "sources": {{\n{sources}\n  }},')
    out.append(f'  "local": {j(doc["local"])}')
    out.append("}")
    return "\n".join(out) + "\n"


def _entries(days) -> dict[str, str | None]:
    """{date: name} of a file's list; entries may be "YYYY-MM-DD" or {date, name}."""
    out = {}
    for e in days or []:
        if isinstance(e, str):
            out[e] = None
        else:
            out[e["date"]] = e.get("name")
    return out


def differences(old: dict, new: dict) -> list[str]:
    """Every difference, as lines: dates added/removed per scope and year, renamed
    days, and changed metadata."""
    lines = []
    scopes = [("national", old.get("national"), new.get("national"))]
    codes = sorted(set(old.get("regional") or {}) | set(new.get("regional") or {}))
    for code in codes:
        scopes.append(
            (code, (old.get("regional") or {}).get(code), (new.get("regional") or {}).get(code))
        )
    for scope, before, after in scopes:
        b, a = _entries(before), _entries(after)
        years = sorted({d[:4] for d in b} | {d[:4] for d in a})
        for y in years:
            added = sorted(d for d in a if d[:4] == y and d not in b)
            removed = sorted(d for d in b if d[:4] == y and d not in a)
            if added:
                lines.append(
                    f"{scope} {y}: + "
                    + ", ".join(f"{d} {dt.date.fromisoformat(d):%a} ({a[d]})" for d in added)
                )
            if removed:
                lines.append(
                    f"{scope} {y}: - "
                    + ", ".join(
                        f"{d} {dt.date.fromisoformat(d):%a}" + (f" ({b[d]})" if b[d] else "")
                        for d in removed
                    )
                )
        renamed = sorted(d for d in a if d in b and b[d] is not None and a[d] != b[d])
        for d in renamed:
            lines.append(f"{scope} {d}: name {b[d]!r} -> {a[d]!r}")
        unnamed = sorted(d for d in a if d in b and b[d] is None and a[d] is not None)
        if unnamed:
            lines.append(f"{scope}: {len(unnamed)} day(s) gain a name")
    for key in ("years", "sources", "local", "about"):
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {json.dumps(old.get(key), ensure_ascii=False)[:200]} -> "
                         f"{json.dumps(new.get(key), ensure_ascii=False)[:200]}")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="print the differences (default)")
    mode.add_argument("--write", action="store_true", help="rewrite the file")
    ap.add_argument("--file", default=OUT, help=f"the calendar file (default {OUT})")
    args = ap.parse_args(argv)
    doc = build(_holidays())
    text = render(doc)
    assert json.loads(text) == doc
    if args.write:
        with open(args.file, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.file}")
        return 0
    try:
        with open(args.file, encoding="utf-8") as f:
            current_text = f.read()
    except FileNotFoundError:
        print(f"{args.file}: missing")
        return 1
    lines = differences(json.loads(current_text), doc)
    for line in lines:
        print(line)
    if not lines and current_text != text:
        lines = ["the file's layout differs from what --write produces"]
        print(lines[0])
    if lines:
        print(f"{len(lines)} difference(s); run with --write to update {args.file}")
        return 1
    print(f"{args.file} matches holidays {HOLIDAYS_VERSION} and the corrections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
