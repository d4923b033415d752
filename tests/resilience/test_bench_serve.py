"""`coach bench serve` end to end, small: a real `coach serve`, stand-ins, every kind of request answered."""

from __future__ import annotations

from adapters.bench_serve import KINDS, percentile, run_bench


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 99) == 0.0


async def test_a_small_run_gets_every_reply_and_no_errors() -> None:
    result = await run_bench(requests=10, concurrency=10, deadline=60)
    assert result.errors == 0 and result.lost == 0, result.lines()
    assert list(result.kinds) == list(KINDS)
    assert {k: r.requests for k, r in result.kinds.items()} == {"slack dm": 4, "slack command": 2, "teams": 4}
    assert set(result.platforms) == {"slack", "teams"}
    for kind in result.kinds.values():
        assert kind.replied == kind.requests and 0 < kind.ack_p50_ms <= kind.ack_p99_ms <= kind.ack_max_ms
        assert set(kind.statuses) <= {"200", "201"}
    assert result.server_log_problems == []
    text = "\n".join(result.lines())
    assert "no reply lost     yes" in text and "HTTP answers      200: 6, 201: 4" in text
