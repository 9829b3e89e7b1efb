"""Demo chat for ``make demo``: channels in the demo alliances with short conversations in
Simplified and Traditional Chinese (a reply, reactions, an ``@mention``), a private channel of
an alliance's admins, and a direct conversation — through the chat services, so read state,
unread and mention counts and notifications are real.

The demo organiser (``linxiaoyu``) is left with something to read: unread messages and a
mention in one channel, one unread message in another and in the direct conversation; other
channels read; and one channel of her alliance she has not joined (listed as one to join).

Idempotent item by item: a channel is the one of that name in that alliance, a direct
conversation the one of exactly those members (``open_direct`` reuses it), a message the one its
sender sent with the demo's ``client_id`` (a send retried with it is the same message), a
reaction or a reading the member's own. Running it twice adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from server.alliances.demo import find_alliance
from server.chat import channels, consent, direct, messages, reading
from server.chat.models import Conversation, ConversationMember, Message, MessageReaction
from server.common.demo import Added
from server.extensions import db
from server.members.bootstrap import demo_members
from server.members.models import Member

ORGANISER = "linxiaoyu"


@dataclass
class Line:
    key: str  # with the prefix, the sender's client_id for it
    sender: str
    body: str
    reply_to: str | None = None  # the key of the message it answers
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (who, reaction)


@dataclass
class DemoConversation:
    lines: list[Line]
    alliance: str | None = None  # a channel of this alliance; None: a direct conversation
    name: str = ""
    private: bool = False
    creator: str = ORGANISER  # a channel's: its alliance's owner or an admin
    members: list[str] = field(default_factory=list)  # who follows it besides the creator
    organiser_read_to: str | None = None  # the organiser reads up to this line afterwards


CLIENT_ID_PREFIX = "jiayuan-demo-"

CONVERSATIONS = [
    DemoConversation(
        alliance="杭州新媒体创作者联盟",
        name="综合闲聊",
        members=["heyifan", "chenmo", "zhaomin", "huangshiting", "sunli"],
        lines=[
            Line(
                "hz-chat-1",
                "chenmo",
                "大家好！下周六下午天目里有个短视频创作者的线下交流会，有人一起去吗？",
                reactions=[("zhaomin", "like"), ("sunli", "like")],
            ),
            Line(
                "hz-chat-2",
                "linxiaoyu",
                "好呀，我来订会议室，报名表晚点发到群里。",
                reply_to="hz-chat-1",
                reactions=[("heyifan", "heart")],
            ),
            # the organiser has read up to here (she wrote the line above); what follows is new
            Line(
                "hz-chat-3",
                "heyifan",
                "@linxiaoyu 林老师，能帮我看看新一期视频的封面吗？总觉得标题字太挤了。",
            ),
            Line(
                "hz-chat-4",
                "huangshiting",
                "我人在臺北去不了，等你們的現場照片！",
                reactions=[("chenmo", "laugh")],
            ),
            Line(
                "hz-chat-5",
                "zhaomin",
                "算我一个，我从广州坐高铁过去，顺便拜访几家做国潮包装的工作室。",
                reply_to="hz-chat-1",
            ),
        ],
    ),
    DemoConversation(
        alliance="杭州新媒体创作者联盟",
        name="接单信息",
        creator="heyifan",
        members=["linxiaoyu", "zhaomin", "chenmo"],
        organiser_read_to="hz-jobs-2",
        lines=[
            Line(
                "hz-jobs-1",
                "zhaomin",
                "【招募】杭州一家新茶饮品牌找短视频剪辑，每条 60 秒，预算 3000 元/条，"
                "长期合作，有意向的私信我。",
            ),
            Line(
                "hz-jobs-2",
                "chenmo",
                "我有档期，已经私信你了～作品集在我主页。",
                reply_to="hz-jobs-1",
                reactions=[("zhaomin", "thanks")],
            ),
        ],
    ),
    DemoConversation(
        alliance="杭州新媒体创作者联盟",
        name="管理组",
        private=True,
        members=["heyifan"],
        lines=[
            Line("hz-admin-1", "heyifan", "下周选题会我来主持，议程已经发在论坛的联盟版块了。"),
            Line("hz-admin-2", "linxiaoyu", "收到，辛苦了！场地我来订。"),
        ],
    ),
    DemoConversation(
        alliance="成都自由设计师联盟",
        name="作品互评",
        creator="chenmo",
        members=["linxiaoyu", "zhouxu", "liuyang"],
        organiser_read_to="cd-review-2",
        lines=[
            Line("cd-review-1", "chenmo", "新做的火锅店菜单，大家帮忙看看配色？红色会不会太多了。"),
            Line(
                "cd-review-2",
                "zhouxu",
                "红色用得挺克制的，就是菜价的字号可以再大一点，长辈看不清。",
                reply_to="cd-review-1",
                reactions=[("chenmo", "thanks")],
            ),
            Line(
                "cd-review-3",
                "liuyang",
                "@chenmo 报价里记得把印刷打样费单列，别让甲方以为都是设计费。",
            ),
        ],
    ),
    DemoConversation(
        alliance="港臺獨立創作者聯盟",
        name="閒聊",
        creator="huangshiting",
        members=["wuhaoran", "wangjiahui"],  # not the organiser: a channel she could join
        lines=[
            Line(
                "tw-chat-1",
                "huangshiting",
                "這週末在西門町有個小型攝影展，主題是「夜市的光」，歡迎大家來看看！",
            ),
            Line(
                "tw-chat-2",
                "wuhaoran",
                "好正呀！我星期六飛過嚟，順便帶結他去街頭唱幾首。",
                reactions=[("huangshiting", "heart")],
            ),
            Line(
                "tw-chat-3",
                "wangjiahui",
                "展覽介紹如果需要英文或日文翻譯，隨時找我。",
                reply_to="tw-chat-1",
                reactions=[("huangshiting", "thanks")],
            ),
        ],
    ),
    DemoConversation(  # opened by chenmo; the organiser has not read his last message
        creator="chenmo",
        members=["linxiaoyu"],
        lines=[
            Line("dm-1", "chenmo", "晓雨，成都联盟下个月想办一次线下作品分享会，你有空来讲讲吗？"),
            Line("dm-2", "chenmo", "场地在玉林路的一家咖啡馆，大概三十个人。"),
            Line("dm-3", "linxiaoyu", "有空！我可以讲讲给小店做品牌设计时怎么报价。"),
            Line("dm-4", "chenmo", "太好了，海报初稿做好了发你看看 🙏"),
        ],
    ),
]


def _ensure_channel(spec: DemoConversation, m: dict[str, Member], added: Added) -> int | None:
    """The channel (made by its creator if missing) with its members following it; None if
    its alliance is not there."""
    alliance = find_alliance(spec.alliance or "")
    if alliance is None:
        return None
    existing = db.session.execute(
        sa.select(Conversation.id)
        .where(
            Conversation.kind == "channel",
            Conversation.alliance_id == alliance.id,
            Conversation.name == spec.name,
        )
        .order_by(Conversation.id)
        .limit(1)
    ).scalar_one_or_none()
    added.count("channels", existing is None)
    creator = m[spec.creator]
    if existing is None:
        data = {"alliance_id": alliance.id, "name": spec.name, "private": spec.private}
        existing = channels.create_channel(creator, data).id
    following = set(
        db.session.execute(
            sa.select(ConversationMember.member_id).where(
                ConversationMember.conversation_id == existing
            )
        ).scalars()
    )
    missing = [m[h] for h in spec.members if m[h].id not in following]
    if spec.private and missing:  # a private channel's members are put in it
        channels.add_members(creator, existing, [member.id for member in missing])
    elif not spec.private:  # a public one's join it
        for member in missing:
            channels.join_conversation(member, existing)
    return existing


def _ensure_direct(spec: DemoConversation, m: dict[str, Member], added: Added) -> int:
    """The direct conversation of exactly these members, opened by its creator if missing."""
    others = [m[h].id for h in spec.members]
    key = consent.direct_key([m[spec.creator].id, *others])
    existing = db.session.execute(
        sa.select(Conversation.id).where(Conversation.direct_key == key)
    ).scalar_one_or_none()
    added.count("direct conversations", existing is None)
    if existing is not None:
        return existing
    return direct.open_direct(m[spec.creator], others).id


def _say(conversation_id: int, spec: DemoConversation, m: dict[str, Member], added: Added) -> None:
    """Each line sent once (found again by its sender's ``client_id``), its reactions, and then
    the organiser's reading, when the lines are new."""
    sent: dict[str, Message] = {}
    new_lines = False
    for line in spec.lines:
        sender = m[line.sender]
        client_id = CLIENT_ID_PREFIX + line.key
        message = db.session.execute(
            sa.select(Message).where(Message.sender_id == sender.id, Message.client_id == client_id)
        ).scalar_one_or_none()
        added.count("messages", message is None)
        if message is None:
            data = {
                "body": line.body,
                "client_id": client_id,
                "reply_to_id": sent[line.reply_to].id if line.reply_to else None,
            }
            message = messages.send_message(sender, conversation_id, data)
            new_lines = True
        sent[line.key] = message
        for who, reaction in line.reactions:
            new = (
                message.deleted_at is None
                and db.session.get(MessageReaction, (message.id, m[who].id, reaction)) is None
            )
            if new:
                messages.react_to_message(m[who], message.id, reaction, True)
            added.count("reactions", new)
    if new_lines and spec.organiser_read_to is not None:
        reading.mark_read(m[ORGANISER], conversation_id, sent[spec.organiser_read_to].id)


def seed_chat() -> None:
    """Five channels in the three demo alliances and one direct conversation."""
    handles = {ORGANISER}
    for spec in CONVERSATIONS:
        handles |= {spec.creator, *spec.members}
        handles |= {line.sender for line in spec.lines}
        handles |= {who for line in spec.lines for who, _r in line.reactions}
    m = demo_members(handles)
    added = Added()
    for spec in CONVERSATIONS:
        if spec.alliance is None:
            conversation_id = _ensure_direct(spec, m, added)
        else:
            channel = _ensure_channel(spec, m, added)
            if channel is None:
                print(f"demo chat: no alliance {spec.alliance}, its channel left out")
                continue
            conversation_id = channel
        _say(conversation_id, spec, m, added)
    print(f"demo chat: {added.summary()}")
    print(
        f"  sign in as {ORGANISER}@jiayuan.example (organiser): unread messages in 综合闲聊 "
        "(one mentions her), 作品互评 and a direct conversation with chenmo"
    )
