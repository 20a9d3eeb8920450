"""The readable table written next to the JSON results."""


def markdown(results: dict) -> str:
    m = results.get("machine", {})
    lines = [
        f"# Benchmark {results['started_at']}",
        "",
        f"Taken on a shared {m.get('cpu_count')}-core machine ({m.get('cpu_model')}) while other "
        f"work ran (load average at start {m.get('load_average_at_start')}); compare ratios to "
        "the baseline, not absolute times. "
        f"Python {m.get('python')}, {m.get('livekit_server')}, "
        f"{m.get('database')}, gunicorn {m.get('gunicorn')}.",
        "",
        "| Scenario | Measure | Result | Target | Met |",
        "|---|---|---|---|---|",
    ]
    for name, render in SECTIONS:
        section = results.get(name)
        if section is None:
            continue
        if "error" in section:
            lines.append(f"| {name} | failed | {section['error']} | | missed |")
            continue
        lines += render(section)
    notes = [
        f"- **{name}**: {results[name]['note']}"
        for name, _ in SECTIONS
        if results.get(name, {}).get("note")
        and not all_met(results[name].get("target", {}))  # a note says why it missed
    ]
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


def all_met(target: dict) -> bool:
    """A scenario's target, or its targets per database, all met."""
    if "met" in target:
        return bool(target["met"])
    return bool(target) and all(all_met(each) for each in target.values())


def met(flag: bool | None) -> str:
    return "" if flag is None else ("met" if flag else "**missed**")


def row(scenario: str, measure: str, result: str, target: str = "", ok: bool | None = None):
    return f"| {scenario} | {measure} | {result} | {target} | {met(ok)} |"


def time_to_join(s: dict) -> list[str]:
    t = s["target"]
    lines = []
    for phase, p in s["phases_ms"].items():
        value = f"median {p['median']} ms, p90 {p['p90']} ms" if p else "no such mark"
        measure = f"click → {PHASE_NAMES[phase]} ({s['joins']} joins)"
        lines.append(row("time_to_join", measure, value))
    f = s["first_remote_frame_ms"]
    if "before_median_frame_ms" in t:
        lines.append(
            row(
                "time_to_join",
                "click → first remote frame against before",
                f"median {f['median']} ms against {t['before_median_frame_ms']} ms: "
                f"{round(100 * t['reduction'])}% less",
                f">= {round(100 * t['reduction_at_least'])}% less",
                t["reduction_met"],
            )
        )
    lag = s["frame_after_subscribed_ms"]
    lines.append(
        row(
            "time_to_join",
            "remote track subscribed → its first frame",
            f"median {lag['median']} ms, p90 {lag['p90']} ms" if lag else "no such mark",
            f"median < {t['frame_after_subscribed_ms_below']} ms",
            t["frame_after_subscribed_met"],
        )
    )
    lines.append(
        row(
            "time_to_join",
            "first remote frame before own publish done",
            f"{s['frames_before_own_publish']} of {s['joins']} joins",
        )
    )
    baseline = f"median {s['baseline_ms']['median']} ms"
    lines.append(row("time_to_join", "baseline GET (same run)", baseline))
    return lines


PHASE_NAMES = {
    "token": "join ticket",
    "signal": "signal connected",
    "webrtc": "WebRTC connected",
    "stage": "call on screen",
    "subscribed": "first remote track subscribed",
    "frame": "first remote frame",
    "published": "own tracks published",
}


def admitted_join(s: dict) -> list[str]:
    a, d, t = s["admit_to_connected_ms"], s["direct_click_to_connected_ms"], s["target"]
    return [
        row("admitted_join", f"host's Admit → guest Connected ({s['joins']} joins)",
            f"median {a['median']} ms, p90 {a['p90']} ms"),
        row("admitted_join", "direct join: click → Connected (same run)",
            f"median {d['median']} ms, p90 {d['p90']} ms"),
        row("admitted_join", "admitted minus direct (medians)", f"{s['extra_ms']} ms",
            f"< {t['extra_ms_below']} ms", t["met"]),
        row("admitted_join", "lobby requests per waiting guest", f"max {s['lobby_requests_max']} "
            f"in {s['wait_seconds']} s"),
    ] + [
        row("admitted_join", f"host's Admit → {PHASE_NAMES[phase]}",
            f"median {p['median']} ms, p90 {p['p90']} ms")
        for phase, p in s.get("admitted_phases_ms", {}).items()
    ]  # fmt: skip


def page_weight(s: dict) -> list[str]:
    lines = []
    for page, p in s["pages"].items():
        for cache in ("cold", "warm"):
            w = p[cache]
            lines.append(row(
                "page_weight", f"{page}, {cache} cache",
                f"app {kb(w['app_bytes'])} (JS+CSS {kb(w['app_js_css_bytes'])}), "
                f"vendor {kb(w['vendor_bytes'])}, total {kb(w['total_bytes'])}",
            ))  # fmt: skip
    if "browser_accept_encoding" in s:
        sent = sorted(set(s.get("static_encodings", {}).values()))
        lines.append(
            row(
                "page_weight",
                "encoding of the app's JS+CSS",
                f"browser sent Accept-Encoding {', '.join(s['browser_accept_encoding']) or '-'}; "
                f"server answered Content-Encoding {', '.join(sent) or '-'}",
            )
        )
    g = s["gzip_would_be"]
    lines.append(
        row(
            "page_weight",
            "if gzipped (reference)",
            f"app JS+CSS {kb(g['app_js_css_bytes'])}, vendor {kb(g['vendor_bytes'])}",
        )
    )
    t = s["target"]
    if "pre_join_html" in s:
        h = s["pre_join_html"]
        lines.append(
            row(
                "page_weight",
                "pre-join HTML, cold",
                f"{kb(h['bytes'])}, {h['encoding']}",
                "compressed",
                t["html_compressed"],
            )
        )
        unused = ", ".join(s["unused_feature_files"]) or "none"
        lines.append(
            row(
                "page_weight",
                "files for features a guest here can't use",
                unused,
                "none",
                t["no_unused_feature_files"],
            )
        )
    lines.append(row("page_weight", "page-specific JS+CSS, largest page, cold",
                     kb(t["largest_app_js_css_bytes"]),
                     f"< {kb(t['app_js_css_bytes_below'])}", t["met"]))  # fmt: skip
    return lines


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def token_endpoint(s: dict) -> list[str]:
    lines = []
    for key, r in s.items():
        if not key.startswith("clients_"):
            continue
        clients = key.removeprefix("clients_")
        b = r["baseline"]
        lines.append(
            row(
                "token_endpoint",
                f"{clients} client(s), baseline",
                f"{b['requests_per_second']} req/s, p50 {b['p50_ms']} / p99 {b['p99_ms']} ms",
            )
        )
        for who in ("host", "guest"):
            x = r[who]
            lines.append(row(
                "token_endpoint", f"{clients} client(s), {who}",
                f"{x['requests_per_second']} req/s ({x['ratio_to_baseline']:.0%} of baseline), "
                f"p50 {x['p50_ms']} / p99 {x['p99_ms']} ms, statuses {x['statuses']}",
            ))  # fmt: skip
    t = s["target"]
    lines.append(row("token_endpoint", "worst ratio at 16 clients", f"{t['ratio_at_16']:.0%}",
                     f">= {t['ratio_at_16_at_least']:.0%}", t["met"]))  # fmt: skip
    return lines


def webhook_ingest(s: dict) -> list[str]:
    lines = []
    for database in ("sqlite", "postgresql"):
        for key, r in s.get(database, {}).items():
            if key == "paced":
                lines.append(paced_row(database, r))
                continue
            lines.append(row(
                "webhook_ingest", f"{database}, {key.removeprefix('senders_')} senders",
                f"{r['requests_per_second']} events/s, p50 {r['p50_ms']} / p99 {r['p99_ms']} ms, "
                f"{r['distinct_events']} distinct of {r['requests']}, ledger rows "
                f"{r['ledger_rows']}, lost {r['lost']}, all derived "
                f"{r['derived_seconds_after_last_answer']} s after the last answer, baseline "
                f"{r['baseline_rps']} req/s (ratio {r['ratio_to_baseline']})",
            ))  # fmt: skip
    for database, t in s["target"].items():
        lines.append(row("webhook_ingest", f"{database}, 16 senders",
                         f"{t['events_per_second']} events/s, p99 {t['p99_ms']} ms, "
                         f"lost {t['lost']}",
                         ">= 500 events/s, p99 < 50 ms, zero loss", t["met"]))  # fmt: skip
    return lines


def paced_row(database: str, r: dict) -> str:
    measure = f"{database}, paced {r['rate']:g} events/s, {r['senders']} senders"
    result = f"p50 {r['p50_ms']} / p99 {r['p99_ms']} ms, lost {r['lost']}"
    return row("webhook_ingest", measure, result, "p99 < 50 ms at LiveKit's pace", r["met"])


def join_storm(s: dict) -> list[str]:
    t = s["target"]
    return [
        row("join_storm", f"{s['token_requests']} token requests in {s['window_seconds']} s",
            f"{s['token_success_rate']:.1%} success, p50 {s['token_p50_ms']} / "
            f"p99 {s['token_p99_ms']} ms, statuses {s['token_statuses']}",
            "100%, p99 < 300 ms", t["met"]),
        row("join_storm", f"{s['joins']} real joins",
            f"{s['joins_connected']} connected, all in the room after "
            f"{s['seconds_until_all_in_room']} s from the storm's start, "
            f"{s['seconds_after_last_join_began']} s after the last join began "
            f"(ListParticipants saw {s['participants_seen']})"),
        row("join_storm", "baseline GET during the storm",
            f"p50 {s['baseline']['p50_ms']} / p99 {s['baseline']['p99_ms']} ms"),
    ]  # fmt: skip


def recording(s: dict) -> list[str]:
    egress = s["egress_room_composite_cores"]
    lines = []
    for key in sorted(k for k in s if k.startswith("people_")):
        r = s[key]
        people = key.removeprefix("people_")
        six = people == "6"
        lines.append(
            row(
                "recording",
                f"worker CPU, {people} people (one screen share), 720p25",
                f"{r['cores_avg']} cores avg, p95 {r['cores_p95']}; {r['pss_mb_max']} MB PSS; "
                f"{egress / max(r['cores_avg'], 0.001):.0f}x below Egress's {egress:g}-core budget",
                f"≤ {s['target']['cores_per_recording_6_people']} core" if six else "",
                s["target"]["met"] if six else None,
            )
        )
        lines.append(
            row(
                "recording",
                f"real time, {people} people",
                f"{r['fps_in_file']} fps in a {r['file_seconds']} s file ({r['size_mb']} MB)",
                "25 fps",
            )
        )
    idle = s["idle_worker"]
    idle_use = f"{idle['cores_avg']} cores, {idle['pss_mb']} MB PSS"
    lines.append(row("recording", "idle worker", idle_use))
    return lines  # fmt: skip


def captions(s: dict) -> list[str]:
    latency = (
        f"p50 {s['latency_p50_s']} s, p95 {s['latency_p95_s']} s, max {s['latency_max_s']} s "
        f"({s['captioned']} of {s['sentences']} sentences; WER {s['word_error_rate_avg']})"
    )
    target = f"p50 < {s['target']['latency_p50_s']} s"
    cost = (
        f"{s['cores_per_speaking_participant']} cores (speaking {s['worker_cores_speaking']}, "
        f"silent microphone {s['worker_cores_silent_mic']}); {s['worker_pss_mb']} MB PSS"
    )
    return [
        row("captions", "end of a sentence to its final caption on screen", latency, target,
            s["target"]["met"]),
        row("captions", "worker CPU per speaking participant", cost),
    ]  # fmt: skip


def streaming(s: dict) -> list[str]:
    out, into, glass = s["stream_out"], s["stream_in"], s["glass_to_glass"]
    cost = "{} cores (p95 {}), {} MB PSS"
    latency = (
        f"p50 {glass['latency_p50_s']} s, p95 {glass['latency_p95_s']} s "
        f"({glass['flashes_on_players']} flashes on {len(glass['latencies_s_per_viewer'])} players)"
    )
    return [
        row("streaming", "worker, one composite to RTMP + HLS",
            cost.format(out["cores_avg"], out["cores_p95"], out["pss_mb_max"])),
        row("streaming", "worker, one 720p25 ingest",
            cost.format(into["cores_avg"], into["cores_p95"], into["pss_mb_max"])),
        row("streaming", "glass to glass, watch page (hls.js) vs. the room", latency),
    ]  # fmt: skip


def effects(s: dict) -> list[str]:
    return [
        row("effects", f"published camera, {name} (applied in {r['applied_s']} s)",
            f"{r['fps']} fps at {r.get('received', '?')} ({r['state'] or 'off'})")
        for name, r in s["effects"].items()
    ]  # fmt: skip


SECTIONS = [
    ("time_to_join", time_to_join),
    ("admitted_join", admitted_join),
    ("page_weight", page_weight),
    ("token_endpoint", token_endpoint),
    ("webhook_ingest", webhook_ingest),
    ("join_storm", join_storm),
    ("recording", recording),
    ("captions", captions),
    ("streaming", streaming),
    ("effects", effects),
]
