"""The benchmark's report: medians per (app, scenario), targets, resources, as Markdown."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.resources import Resources
from bench.wrk import Run


@dataclass
class Report:
    started_at: str
    args: dict[str, Any]
    cold_start_s: dict[str, list[float]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    resources: list[Resources] = field(default_factory=list)
    rss_points: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    rss_slope_mb_per_100k: dict[str, float] = field(default_factory=dict)
    bytes_list: dict[str, int] = field(default_factory=dict)
    identical: list[str] = field(default_factory=list)
    stop_seconds: float = 0.0
    connections_after_stop: int = -1
    targets: list[dict[str, Any]] = field(default_factory=list)
    soak: dict[str, Any] | None = None

    def median(self, app: str, scenario: str, attribute: str = "rps") -> float:
        values = [
            getattr(r, attribute) for r in self.runs if (r.app, r.scenario) == (app, scenario)
        ]
        return statistics.median(values) if values else 0.0

    def ratio(self, scenario: str, ours: str = "onramp", reference: str = "limit") -> float:
        return self.median(ours, scenario) / max(self.median(reference, scenario), 1e-9)


def evaluate_targets(report: Report) -> None:
    def target(name: str, value: float, limit: float, ok: bool) -> None:
        report.targets.append({"target": name, "value": round(value, 3), "limit": limit, "met": ok})

    levels = report.args.get("connections") or [64]
    ours_cold = statistics.median(report.cold_start_s.get("onramp", [0]))
    bare_cold = statistics.median(report.cold_start_s.get("limit", [1]))
    slopes = list(report.rss_slope_mb_per_100k.values()) or [0.0]
    peak_rss = max((max(r.rss_mb) for r in report.resources if r.rss_mb), default=0.0)
    for connections in levels:
        list_ratio = report.ratio(f"vendors_list_gzip@{connections}")
        get_ratio = report.ratio(f"vendor_get@{connections}")
        target(
            f"vendors list (auth+gzip) vs limit, {connections} conns",
            list_ratio,
            0.85,
            list_ratio >= 0.85,
        )
        target(f"vendor read vs limit, {connections} conns", get_ratio, 0.85, get_ratio >= 0.85)
    for connections in levels:
        health_ratio = report.ratio(f"health@{connections}")
        target(
            f"/health vs bare Sanic, {connections} conns", health_ratio, 0.85, health_ratio >= 0.85
        )
    p99 = report.median("onramp", f"vendors_list_gzip@{max(levels)}", "p99_ms")
    target(f"list p99 at {max(levels)} connections (ms)", p99, 50, p99 < 50)
    target("RSS slope MB per 100k requests", max(slopes), 0.5, max(slopes) < 0.5)
    target("per-worker RSS (MB)", peak_rss, 80, peak_rss < 80)
    target("cold start vs bare Sanic", ours_cold / bare_cold, 1.3, ours_cold / bare_cold <= 1.3)


def runs_table(runs: list[Run]) -> list[str]:
    lines = [
        "| app | scenario | req/s (median) | p50 ms | p99 ms | errors | CPU ms/req |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    seen: list[tuple[str, str]] = []
    for run in runs:
        key = (run.app, run.scenario)
        if key in seen:
            continue
        seen.append(key)
        same = [r for r in runs if (r.app, r.scenario) == key]
        lines.append(
            f"| {run.app} | {run.scenario} | {statistics.median(r.rps for r in same):,.0f} | "
            f"{statistics.median(r.p50_ms for r in same):.2f} | "
            f"{statistics.median(r.p99_ms for r in same):.2f} | {sum(r.errors for r in same)} | "
            f"{statistics.median(r.cpu_ms_per_request for r in same):.3f} |"
        )
    return lines


def markdown(report: Report) -> str:
    lines = [
        f"# Onramp benchmark, {report.started_at}",
        "",
        f"Arguments: `{json.dumps(report.args)}`",
        "",
        *runs_table(report.runs),
    ]
    lines += ["", "| target | value | limit | met |", "| --- | ---: | ---: | --- |"]
    for t in report.targets:
        lines.append(
            f"| {t['target']} | {t['value']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |"
        )
    lines += [
        "",
        "| resources | RSS MB per worker | threads | fds | DB connections | jobs alive |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report.resources:
        lines.append(
            f"| {r.label} | {r.rss_mb} | {r.threads} | {r.fds} | {r.db_connections} | "
            f"{r.tasks_alive:g} |"
        )
    lines += [
        "",
        f"Cold start to first 200 (s): {report.cold_start_s}",
        f"RSS slope (MB per 100k requests, after warm-up): {report.rss_slope_mb_per_100k}",
        f"Vendor list bytes: {report.bytes_list}",
        f"Same bodies from both apps (checked before measuring): {report.identical}",
        f"Stop after SIGTERM: {report.stop_seconds:.2f} s; "
        f"DB connections after stop: {report.connections_after_stop}",
    ]
    if report.soak is not None:
        lines += ["", f"Soak: {json.dumps(report.soak)}"]
    return "\n".join(lines) + "\n"
