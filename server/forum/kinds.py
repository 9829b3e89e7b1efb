"""The forum's notification kinds. Subjects: ``forum.thread:{id}`` (collapses the replies in a
watched thread into one entry), ``forum.thread:{id}:{number}`` (one post: a reply to you, a
mention) and ``forum.post:{id}`` (what moderators did to your post)."""

from __future__ import annotations

from server.notifications.kinds import Kind, register_kind

LINK = ("thread_id", "post_id", "number")
DATA = {
    "thread_id": "integer",
    "post_id": "integer",
    "number": "integer",
    "title": "string",
    "excerpt": "string",
}


def thread_subject(thread_id: int) -> str:
    return f"forum.thread:{thread_id}"


def post_subject(thread_id: int, number: int) -> str:
    return f"forum.thread:{thread_id}:{number}"


def register() -> None:
    register_kind(
        Kind(
            name="forum.reply",
            label={"zh-Hans": "回复我的帖子", "zh-Hant": "回覆我的貼文", "en": "Replies to me"},
            title={
                "zh-Hans": "{actor} 回复了你",
                "zh-Hant": "{actor} 回覆了你",
                "en": "{actor} replied to you",
            },
            body={
                "zh-Hans": "「{title}」{excerpt}",
                "zh-Hant": "「{title}」{excerpt}",
                "en": "“{title}” {excerpt}",
            },
            android_channel="forum",
            link_keys=LINK,
            data=DATA,
        )
    )
    register_kind(
        Kind(
            name="forum.mention",
            label={"zh-Hans": "提到我", "zh-Hant": "提及我", "en": "Mentions"},
            title={
                "zh-Hans": "{actor} 在帖子中提到了你",
                "zh-Hant": "{actor} 在貼文中提及了你",
                "en": "{actor} mentioned you",
            },
            body={
                "zh-Hans": "「{title}」{excerpt}",
                "zh-Hant": "「{title}」{excerpt}",
                "en": "“{title}” {excerpt}",
            },
            android_channel="forum",
            link_keys=LINK,
            data=DATA,
        )
    )
    register_kind(
        Kind(
            name="forum.watching",
            label={
                "zh-Hans": "关注的主题有新回复",
                "zh-Hant": "關注的主題有新回覆",
                "en": "New replies in watched threads",
            },
            title={"zh-Hans": "{title}", "zh-Hant": "{title}", "en": "{title}"},
            body={
                "zh-Hans": "{actor}：{excerpt}",
                "zh-Hant": "{actor}：{excerpt}",
                "en": "{actor}: {excerpt}",
            },
            many={
                "zh-Hans": "有 {count} 条新回复",
                "zh-Hant": "有 {count} 則新回覆",
                "en": "{count} new replies",
            },
            push_default=True,
            android_channel="forum",
            link_keys=LINK,
            data=DATA,
        )
    )
    register_kind(
        Kind(
            name="forum.moderated",
            label={
                "zh-Hans": "帖子处理结果",
                "zh-Hant": "貼文處理結果",
                "en": "Moderation of my posts",
            },
            title={
                "zh-Hans": "你的帖子{outcome}",
                "zh-Hant": "你的貼文{outcome}",
                "en": "Your post {outcome}",
            },
            body={
                "zh-Hans": "「{title}」{reason}",
                "zh-Hant": "「{title}」{reason}",
                "en": "“{title}” {reason}",
            },
            android_channel="forum",
            link_keys=LINK,
            data=DATA | {"outcome": "object", "reason": "string"},
        )
    )


OUTCOMES = {
    "hidden": {
        "zh-Hans": "已被隐藏，等待审核",
        "zh-Hant": "已被隱藏，等待審核",
        "en": "was hidden pending review",
    },
    "hide": {
        "zh-Hans": "已被版主隐藏",
        "zh-Hant": "已被版主隱藏",
        "en": "was hidden by a moderator",
    },
    "restore": {"zh-Hans": "已恢复显示", "zh-Hant": "已恢復顯示", "en": "was restored"},
    "delete": {
        "zh-Hans": "已被版主删除",
        "zh-Hant": "已被版主刪除",
        "en": "was deleted by a moderator",
    },
}
