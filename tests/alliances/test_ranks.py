"""The rank rule (owner > admin > member): lifting a mute or a ban takes outranking the member
and at least the rank of who imposed it; invite links lose effect with their maker's rank."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa

from server.extensions import db
from tests.alliances.helpers import make_alliance

ROOT = Path(__file__).resolve().parents[2]


def test_lifting_a_mute_takes_the_rank_of_who_imposed_it(api, make_member, team):
    staff = make_member(role="admin")  # site staff, not in the alliance: as before, no say here
    chat = api.at("/api/v1/chat")

    def mute(by, target, status=204):
        return chat.call(by, "POST", f"/alliances/{team.alliance_id}/mutes", status,
                         json={"member_id": target.id, "hours": 2})  # fmt: skip

    def unmute(by, target, status):
        return chat.call(by, "DELETE", f"/alliances/{team.alliance_id}/mutes/{target.id}", status,
                         headers={"Accept-Language": "en"})  # fmt: skip

    # the owner's mute of a member: admins cannot lift it, the owner can
    mute(team.owner, team.member)
    body = unmute(team.admin, team.member, 403)
    assert (body["code"], body["status"]) == ("forbidden", 403)
    unmute(team.member, team.member, 403)
    unmute(staff, team.member, 403)
    unmute(team.owner, team.member, 204)
    # an admin's mute of a member: any admin lifts it
    mute(team.admin, team.member)
    unmute(team.admin2, team.member, 204)
    # the owner mutes an admin: neither that admin nor another lifts it
    mute(team.owner, team.admin)
    unmute(team.admin, team.admin, 403)
    unmute(team.admin2, team.admin, 403)
    unmute(team.owner, team.admin, 204)
    assert unmute(team.owner, team.admin, 409)["code"] == "chat_not_muted"  # nothing left to lift


def test_lifting_a_ban_takes_the_rank_of_who_imposed_it(api, make_member, team):
    outsider, spammer = make_member(), make_member()
    staff = make_member(role="admin")
    api.call(
        team.owner, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": team.member2.id}
    )
    body = api.call(team.admin, "DELETE", f"/{team.alliance_id}/bans/{team.member2.id}", 403)
    assert body["code"] == "forbidden"
    api.call(team.member2, "POST", f"/{team.alliance_id}/join", 403)  # still banned
    api.call(team.owner, "DELETE", f"/{team.alliance_id}/bans/{team.member2.id}", 204)
    # an admin's ban: another admin lifts it
    api.call(team.admin, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": outsider.id})
    api.call(team.admin2, "DELETE", f"/{team.alliance_id}/bans/{outsider.id}", 204)
    # site staff's ban outranks the owner's say; staff lift any ban, as before
    api.call(staff, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": spammer.id})
    api.call(team.owner, "DELETE", f"/{team.alliance_id}/bans/{spammer.id}", 403)
    api.call(staff, "DELETE", f"/{team.alliance_id}/bans/{spammer.id}", 204)
    api.call(team.owner, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": spammer.id})
    api.call(staff, "DELETE", f"/{team.alliance_id}/bans/{spammer.id}", 204)
    api.call(staff, "DELETE", f"/{team.alliance_id}/bans/{spammer.id}", 404)
    # an admin's ban the owner repeats takes the owner's rank: admins no longer lift it
    api.call(team.admin, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": outsider.id})
    api.call(team.owner, "POST", f"/{team.alliance_id}/bans", 204, json={"member_id": outsider.id})
    api.call(team.admin2, "DELETE", f"/{team.alliance_id}/bans/{outsider.id}", 403)
    api.call(team.owner, "DELETE", f"/{team.alliance_id}/bans/{outsider.id}", 204)


def test_a_removed_admins_invite_lets_nobody_in(api, make_member):
    """The review's case: a removed admin re-entered a secret alliance with their own link."""
    owner = make_member(role="organiser")
    secret = make_alliance(api, owner, "秘密联盟", visibility="secret")
    sid = secret["id"]
    admin, friend = make_member(), make_member()
    first = api.call(owner, "POST", f"/{sid}/invites", 201, json={})
    api.call(admin, "POST", f"/invites/{first['code']}/accept", 200)
    api.call(owner, "PATCH", f"/{sid}/members/{admin.id}", 200, json={"role": "admin"})
    own = api.call(admin, "POST", f"/{sid}/invites", 201, json={"max_uses": 10})
    api.call(owner, "DELETE", f"/{sid}/members/{admin.id}", 204)
    body = api.call(admin, "POST", f"/invites/{own['code']}/accept", 404)
    assert body["code"] == "alliance_invite_not_found"
    api.call(friend, "POST", f"/invites/{own['code']}/accept", 404)
    listed = api.call(owner, "GET", f"/{sid}/invites", 200)["items"]
    assert [i["id"] for i in listed] == [first["id"]]


def test_a_demoted_admins_invites_stay_dead_after_a_new_promotion(api, make_member, app):
    from server.alliances.models import AllianceInvite

    owner = make_member(role="organiser")
    sid = make_alliance(api, owner, "秘密联盟", visibility="secret")["id"]
    admin, plain, a, b = (make_member() for _ in range(4))
    link = api.call(owner, "POST", f"/{sid}/invites", 201, json={})
    for m in (admin, plain):
        api.call(m, "POST", f"/invites/{link['code']}/accept", 200)
    api.call(owner, "PATCH", f"/{sid}/members/{admin.id}", 200, json={"role": "admin"})
    made = api.call(admin, "POST", f"/{sid}/invites", 201, json={})
    api.call(owner, "PATCH", f"/{sid}/members/{admin.id}", 200, json={"role": "member"})
    assert made["id"] not in [
        i["id"] for i in api.call(owner, "GET", f"/{sid}/invites", 200)["items"]
    ]
    api.call(a, "POST", f"/invites/{made['code']}/accept", 404)
    api.call(owner, "PATCH", f"/{sid}/members/{admin.id}", 200, json={"role": "admin"})
    api.call(a, "POST", f"/invites/{made['code']}/accept", 404)  # not brought back
    # a link whose maker holds no managing rank (made before this rule) is refused at redemption
    with app.app_context():
        stale = db.session.get(AllianceInvite, link["id"])
        stale.created_by_id = plain.id
        db.session.commit()
    assert link["id"] not in [
        i["id"] for i in api.call(owner, "GET", f"/{sid}/invites", 200)["items"]
    ]
    api.call(b, "POST", f"/invites/{link['code']}/accept", 404)
    # handing the alliance over keeps the former owner an admin: their links still work
    fresh = api.call(owner, "POST", f"/{sid}/invites", 201, json={})
    api.call(owner, "PATCH", f"/{sid}/members/{admin.id}", 200, json={"role": "owner"})
    assert api.call(b, "POST", f"/invites/{fresh['code']}/accept", 200)["my_role"] == "member"


def test_0010_fills_ranks_and_revokes_orphaned_invites(app, make_member):
    """Its statements, on this run's database: who imposed existing mutes and bans, with what
    rank, and invites whose makers lost their rank are revoked."""
    from server.alliances.models import Alliance, AllianceBan, AllianceInvite, AllianceMember
    from server.chat.models import ChatMute, Conversation, ConversationMember, Message
    from server.common.time import utcnow

    path = ROOT / "migrations" / "versions" / "0010_member_blocks.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    owner, admin, demoted, gone, staff, target, writer, reader = (
        make_member(role="admin" if i == 4 else "member").id for i in range(8)
    )
    with app.app_context():
        alliance = Alliance(name="旧联盟", name_key="旧联盟", member_count=3)
        db.session.add(alliance)
        db.session.flush()
        aid = alliance.id
        for m, role in ((owner, "owner"), (admin, "admin"), (demoted, "member")):
            db.session.add(AllianceMember(alliance_id=aid, member_id=m, role=role))
        until = utcnow()
        for by in (owner, admin, demoted):
            db.session.add(ChatMute(alliance_id=aid, member_id=target, until=until,
                                    moderator_id=by, moderator_role="member"))  # fmt: skip
        for banned, by in ((writer, admin), (reader, staff), (target, gone)):
            db.session.add(AllianceBan(alliance_id=aid, member_id=banned, banned_by_id=by,
                                       banned_by_role="member"))  # fmt: skip
        invites = {}
        for n, by in enumerate((owner, admin, demoted, gone, staff, None)):
            invite = AllianceInvite(alliance_id=aid, code_hash=f"hash{n}-{aid}",
                                    created_by_id=by, expires_at=until)  # fmt: skip
            db.session.add(invite)
            db.session.flush()
            invites[by] = invite.id
        direct = Conversation(kind="direct", direct_key=f"{writer}:{reader}", created_by_id=owner)
        db.session.add(direct)
        db.session.flush()
        for m in (owner, writer, reader):
            db.session.add(ConversationMember(conversation_id=direct.id, member_id=m))
        db.session.add(Message(conversation_id=direct.id, sender_id=writer, body="x", html="x"))
        db.session.flush()
        for statement in (module.MUTE_ROLES, module.BAN_ROLES, module.REVOKE_ORPHAN_INVITES,
                          module.ACCEPTED):  # fmt: skip
            db.session.execute(sa.text(statement))
        mutes = dict(
            db.session.execute(
                sa.select(ChatMute.moderator_id, ChatMute.moderator_role).where(
                    ChatMute.alliance_id == aid
                )
            ).all()
        )
        assert mutes == {owner: "owner", admin: "admin", demoted: "owner"}
        bans = dict(
            db.session.execute(
                sa.select(AllianceBan.member_id, AllianceBan.banned_by_role).where(
                    AllianceBan.alliance_id == aid
                )
            ).all()
        )
        assert bans == {writer: "admin", reader: "staff", target: "owner"}
        revoked = {
            by
            for by, invite_id in invites.items()
            if db.session.execute(
                sa.select(AllianceInvite.revoked_at).where(AllianceInvite.id == invite_id)
            ).scalar_one()
            is not None
        }
        assert revoked == {demoted, gone, None}
        accepted = dict(
            db.session.execute(
                sa.select(ConversationMember.member_id, ConversationMember.accepted).where(
                    ConversationMember.conversation_id == direct.id
                )
            ).all()
        )
        assert accepted == {owner: True, writer: True, reader: False}
        db.session.rollback()
