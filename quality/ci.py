"""Every data-quality check in one call, reported the way CI systems read results.

``run_all`` validates an existing warehouse and lake (raw tables, silver lake, marts) and writes a
JUnit XML file, one test case per expectation (a CI system shows each failed one by name), and a
short text summary beside it. It never raises for a failed expectation: it returns whether
everything passed, so the caller decides the exit code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from quality.checks import check_lake, check_marts, check_raw
from quality.runner import QualityResult


def run_all(
    warehouse_path: Path,
    lake_root: Path,
    context_dir: Path,
    junit_path: Path,
    summary_path: Path,
) -> bool:
    """Run the raw, lake and mart checks; write ``junit_path`` and ``summary_path``; True if all
    expectations passed."""
    results = {
        "raw": check_raw(warehouse_path, context_dir, raise_on_failure=False),
        "lake": check_lake(lake_root, context_dir, raise_on_failure=False),
        "marts": check_marts(warehouse_path, context_dir, raise_on_failure=False),
    }
    for path in (junit_path, summary_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_junit(results, Path(junit_path))
    Path(summary_path).write_text(summary(results))
    return all(result.success for result in results.values())


def write_junit(results: dict[str, QualityResult], path: Path) -> None:
    """One <testsuite> per checked table, one <testcase> per expectation, <failure> if failed."""
    root = ET.Element("testsuites", name="data-quality")
    for group, result in results.items():
        for suite in result.statistics:
            outcomes = [outcome for outcome in result.outcomes if outcome.suite == suite]
            element = ET.SubElement(
                root,
                "testsuite",
                name=f"{group}.{suite}",
                tests=str(len(outcomes)),
                failures=str(sum(not outcome.success for outcome in outcomes)),
            )
            for outcome in outcomes:
                case = ET.SubElement(
                    element,
                    "testcase",
                    classname=f"quality.{group}.{suite}",
                    name=outcome.expectation,
                )
                if not outcome.success:
                    ET.SubElement(case, "failure", message=outcome.detail).text = outcome.detail
    root.set("tests", str(sum(len(result.outcomes) for result in results.values())))
    root.set("failures", str(sum(len(result.failures) for result in results.values())))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def summary(results: dict[str, QualityResult]) -> str:
    """A few lines: per group, expectations passed, then every failure; the Data Docs' path."""
    lines = []
    for group, result in results.items():
        passed = sum(outcome.success for outcome in result.outcomes)
        status = "ok" if result.success else "FAILED"
        lines.append(f"{group}: {status}, {passed}/{len(result.outcomes)} expectations passed")
        lines += [f"  - {failure}" for failure in result.failures]
    data_docs = next(iter(results.values())).data_docs
    lines.append(f"Data Docs: {data_docs}")
    return "\n".join(lines) + "\n"
