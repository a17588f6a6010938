"""The benchmark's targets, judged from a run's measurements (no measuring here: made-up rows)."""

from testbench.benchmark import report


def _row(records: int, wall_s: float, cpu_s: float, peak: float = 300.0) -> dict:
    return {
        "records": records,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "records_per_s": records / wall_s,
        "peak_rss_mb": peak,
    }


def _results(ours_1m_wall: float) -> dict:
    def scale(people: int, ours_wall: float, floor_wall: float, peak: float) -> dict:
        records = int(people * 0.85)
        return {
            "scale": people,
            "ingestion": {
                "floor_requests_orjson": _row(records, floor_wall, floor_wall),
                "ours": _row(records, ours_wall, ours_wall * 1.4, peak),
                "dlt": _row(records, ours_wall * 10, ours_wall * 10),
            },
            "stages": {},
        }

    small, middle, large = (
        scale(10_000, 2.0, 0.2, 200),
        scale(100_000, 5.0, 1.2, 300),
        scale(1_000_000, ours_1m_wall, 11.2, 900),
    )
    large["incremental"] = _row(5_292, 1.5, 2.0)
    return {"scales": [small, middle, large]}


def _targets(results: dict) -> dict[str, dict]:
    return {check["target"]: check for check in report.targets(results)}


def test_flatness_compares_the_largest_interval_with_the_one_before():
    # 76,500 members in 3 s between 10 K and 100 K people (25,500/s); 765,000 in 30 s (25,500/s)
    flat = _targets(_results(35.0))["ours marginal rate 100,000-1,000,000 / 10,000-100,000 people"]
    assert flat["value"] == 1.0 and flat["met"] is True
    slower = _targets(_results(65.0))[
        "ours marginal rate 100,000-1,000,000 / 10,000-100,000 people"
    ]
    assert slower["value"] == 0.5 and slower["met"] is False


def test_floor_share_is_judged_end_to_end_at_every_scale_and_marginally_per_interval():
    checks = _targets(_results(35.0))
    assert checks["ours / floor at 10,000 people (end to end)"]["value"] == 0.1
    marginal = checks["ours / floor (marginal, 100,000-1,000,000 people)"]
    assert marginal["value"] == round((765_000 / 30.0) / (765_000 / 10.0), 2)
    assert marginal["met"] is False


def test_peers_incremental_and_memory_use_the_issues_goals():
    checks = _targets(_results(35.0))
    assert checks["ours / dlt (marginal)"]["goal"] == ">= 6.0"
    assert checks["incremental / full (wall)"]["met"] is True  # 1.5 s of 35 s
    assert checks["peak RSS of ours at 1,000,000 people (MB)"]["goal"] == "< 1024"
    assert "Marginal ingestion rates, 10,000 to 100,000 people" in report.markdown(
        {**_results(35.0), "started_at": "t", "machine": _machine(), "targets": []}
    )


def _machine() -> dict:
    return {
        "cpu": "cpu",
        "cores": 2,
        "memory_gb": 1,
        "system": "Linux",
        "python": "3.11",
        "load_average_at_start": [0, 0, 0],
    }
