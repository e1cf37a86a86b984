"""Alert texts, per SNS protocol: an SMS of at most 70 characters and a full e-mail.

Pure functions of the incident, so every text can be checked in unit tests. A Chinese SMS longer
than 70 characters is split (and billed) as several messages, or arrives cut: the SMS is built from
the most important part down and shortened, never sent too long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from crisiswatch.constants import SMS_MAX_CHARS
from crisiswatch.incidents.record import Incident
from crisiswatch.vocabulary import Level

CHINA_TIME = timezone(timedelta(hours=8), "CST")

CATEGORY_NAMES = {
    "product_quality": "产品质量",
    "food_safety": "食品安全",
    "service_complaint": "服务投诉",
    "data_privacy": "数据泄露",
    "data_leak": "数据泄露",
    "privacy": "隐私",
    "safety_accident": "安全事故",
    "legal_regulatory": "法律监管",
    "legal": "法律监管",
    "executive_misconduct": "高管不当",
    "rumour": "谣言",
    "rumor": "谣言",
}

KINDS = ("alert", "unacknowledged")


@dataclass(frozen=True)
class Alert:
    subject: str
    sms: str
    email: str

    def sns_message(self) -> str:
        """The Message for SNS publish with MessageStructure=json: one text per protocol."""
        return json.dumps({"default": self.email, "sms": self.sms, "email": self.email}, ensure_ascii=False)


def china_hhmm(moment: datetime) -> str:
    """HH:MM in Beijing time, as every text a person reads shows it."""
    return moment.astimezone(CHINA_TIME).strftime("%H:%M")


def category_name(key: str) -> str:
    return CATEGORY_NAMES.get(key, key)


def main_category(incident: Incident) -> str | None:
    """The crisis category that most top posts hit, weighted by their risk."""
    weights: dict[str, float] = {}
    for post in incident.top_posts:
        for category in post.categories:
            weights[category] = weights.get(category, 0.0) + post.risk
    if not weights:
        return None
    return max(sorted(weights), key=lambda c: weights[c])


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_sms(incident: Incident, tier: Level, kind: str) -> str:
    """At most SMS_MAX_CHARS characters, whatever the watch name or category."""
    stats = incident.stats
    category = main_category(incident)
    topic = category_name(category) if category else "负面舆情"
    numbers = f"负面{stats.negatives}/{stats.mentions}条"
    if kind == "unacknowledged":
        head = f"【{incident.level.chinese}预警无人确认】"
        action = "请立即处理"
    elif tier > incident.level:
        head = f"【{incident.level.chinese}预警升级】"
        action = "未获确认，请立即处理"
    else:
        head = f"【舆情{tier.chinese}预警】"
        action = "请尽快确认"
    deadline = ""
    if incident.deadlines and kind == "alert":
        deadline = f"，首次声明{china_hhmm(incident.deadlines.first_statement)}前"
    ident = f" {incident.incident_id}"
    # Most important first: level, brand, topic, numbers, action; then deadline and id if room.
    name_room = 14
    core = f"{head}{_fit(incident.watch_name, name_room)}：{topic}，{numbers}，{action}"
    for extra in (deadline + ident, deadline, ""):
        if len(core) + len(extra) <= SMS_MAX_CHARS:
            return core + extra
    return _fit(core, SMS_MAX_CHARS)


def render_email(incident: Incident, tier: Level, kind: str, console_url: str = "") -> tuple[str, str]:
    stats = incident.stats
    category = main_category(incident)
    topic = category_name(category) if category else "负面舆情"
    prefix = {"unacknowledged": "无人确认", "alert": "预警"}[kind]
    if kind == "alert" and tier > incident.level:
        prefix = "升级通报"
    # SNS requires an ASCII subject under 100 characters; the Chinese headline opens the body.
    headline = f"{incident.level.chinese}{prefix} {incident.watch_name}：{topic}（负面 {stats.negatives}/{stats.mentions}）"
    label = {"alert": "alert", "unacknowledged": "UNACKNOWLEDGED"}[kind]
    if kind == "alert" and tier > incident.level:
        label = f"unacknowledged, escalated to {tier.value} tier"
    subject = (
        f"[crisiswatch] {incident.level.value.upper()} {label} {incident.watch_id}: "
        f"{category or 'negative'} ({stats.negatives}/{stats.mentions} negative)"
    )[:99]  # ASCII already: the watch id and category keys are ASCII
    lines = [
        headline,
        "",
        f"事件 Incident: {incident.incident_id}",
        f"监测对象 Watch: {incident.watch_name} ({incident.watch_id})",
        f"级别 Level: {incident.level.chinese} {incident.level.value}   通知层级 Tier: {tier.value}",
        f"状态 Status: {incident.status}",
        f"依据 Reason: {incident.level_reason}",
        f"{'本话题' if incident.story_id else '全部话题'}近{stats.window_hours}小时: 提及 {stats.mentions} 条，负面 {stats.negatives} 条"
        f"（{stats.negative_share:.0%}，平时 {stats.normal_negative_share:.0%}），高风险 {stats.high_risk} 条，"
        f"作者粉丝合计 {stats.reach:,}"
        + (f"（{stats.unknown_reach} 条未知）" if stats.unknown_reach else ""),
    ]
    if stats.burst_minutes:
        lines.append(
            f"突增 Burst: 过去{stats.burst_minutes}分钟提及 {stats.burst_mentions} 条，"
            f"平时 {stats.burst_expected:.1f} 条（意外度 {stats.surprise:.1f}）"
        )
    if kind == "unacknowledged":
        lines.append("本预警在规定时间内无人确认，已通知所有层级。请立即处理。")
    elif tier > incident.level:
        lines.append(f"{incident.level.value} 级通知未获确认，现升级通知 {tier.value} 层级。")
    if incident.deadlines:
        d = incident.deadlines
        lines += [
            "",
            "响应时限 (北京时间):",
            f"  首次声明 first statement: {china_hhmm(d.first_statement)}",
            f"  详细声明 detailed statement: {china_hhmm(d.detailed_statement)}",
            f"  进展通报 progress report: 每日, 下次 {d.progress_report.astimezone(CHINA_TIME):%m-%d %H:%M}",
        ]
    if incident.top_posts:
        lines += ["", "主要帖子 Top posts:"]
        for i, post in enumerate(incident.top_posts, 1):
            cats = "、".join(category_name(c) for c in post.categories) or "-"
            followers = "未知" if post.followers is None else f"{post.followers:,}"
            lines.append(f"  {i}. 风险 {post.risk:.2f} | {post.author} ({followers} 粉丝) | {cats}")
            lines.append(f"     {_fit(post.text, 120)}")
            if post.url:
                lines.append(f"     {post.url}")
    lines += [
        "",
        "确认 Acknowledge: POST /incidents/" + incident.incident_id + '/ack  {"by": "你的名字"}',
    ]
    if console_url:
        lines.append(f"控制台 Console: {console_url.rstrip('/')}/incidents/{incident.incident_id}")
    return subject, "\n".join(lines)


def render_alert(incident: Incident, tier: Level, kind: str, console_url: str = "") -> Alert:
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; expected one of {KINDS}")
    subject, body = render_email(incident, tier, kind, console_url)
    return Alert(subject=subject, sms=render_sms(incident, tier, kind), email=body)


CLOCK_NAMES = {"first": "首次声明", "detailed": "详细声明", "progress": "进展通报"}
CLOCK_ENGLISH = {"first": "first statement", "detailed": "detailed statement", "progress": "progress report"}


def render_clock(incident: Incident, clock, tier: Level, missed: bool, console_url: str = "") -> Alert:
    """A reminder before a crisis-PR deadline, or the news that it passed (to the tier above)."""
    name = CLOCK_NAMES[clock.kind] + (
        f"第{clock.seq}次" if clock.kind == "progress" and clock.seq > 1 else ""
    )
    due = china_hhmm(clock.due)
    if missed:
        head, action = f"【{name}已超时】", f"{due}到期未发布，已升级至{tier.chinese}层级，请立即处理"
    else:
        minutes = max(0, round((clock.due - clock.remind_at).total_seconds() / 60))
        head, action = f"【{name}提醒】", f"{due}到期（{minutes}分钟后），发布后请登记"
    ident = f" {incident.incident_id}"
    core = f"{head}{_fit(incident.watch_name, 14)}：{action}"
    sms = core + ident if len(core) + len(ident) <= SMS_MAX_CHARS else _fit(core, SMS_MAX_CHARS)
    english = CLOCK_ENGLISH[clock.kind]
    subject = (
        f"[crisiswatch] {'MISSED' if missed else 'due soon'}: {english} for {incident.watch_id} "
        f"({incident.level.value})"
    )[:99]
    lines = [
        head + incident.watch_name,
        "",
        f"事件 Incident: {incident.incident_id}（{incident.level.chinese}）",
        f"时限 Due: {clock.due.astimezone(CHINA_TIME):%m-%d %H:%M} 北京时间",
        ("已超时，现通知 " if missed else "提醒对象 ") + f"{tier.chinese} ({tier.value}) 层级",
        "",
        "登记 Record it: POST /incidents/"
        + incident.incident_id
        + f'/statements  {{"kind": "{clock.kind}", "url": "...", "by": "你的名字"}}',
    ]
    if console_url:
        lines.append(f"控制台 Console: {console_url.rstrip('/')}/incidents/{incident.incident_id}")
    return Alert(subject=subject, sms=sms, email="\n".join(lines))


def render_digest(
    watch_name: str, watch_id: str, lines: list[str], since: datetime, console_url: str = ""
) -> Alert:
    """What quiet hours held back (blue and yellow alerts), as one message when they end."""
    count = len(lines)
    core = f"【舆情摘要】{_fit(watch_name, 14)}：静默时段内{count}条蓝色/黄色预警，详见邮件"
    subject = f"[crisiswatch] digest {watch_id}: {count} alert(s) held during quiet hours"[:99]
    body = [
        f"{watch_name} 静默时段摘要（自 {since.astimezone(CHINA_TIME):%m-%d %H:%M} 北京时间）",
        "",
        *[f"  - {line}" for line in lines],
    ]
    if console_url:
        body += ["", f"控制台 Console: {console_url.rstrip('/')}/incidents"]
    return Alert(subject=subject, sms=_fit(core, SMS_MAX_CHARS), email="\n".join(body))


def digest_line(incident: Incident, tier: Level) -> str:
    """One line per held alert, in a digest."""
    stats = incident.stats
    return (
        f"{china_hhmm(incident.updated_at)} {incident.level.chinese}预警 {incident.incident_id}: "
        f"{incident.level_reason} (负面 {stats.negatives}/{stats.mentions})"
    )
