"""``/api/v1/alliances``: alliances, joining (at once, by request, by invite), members, roles
and bans. Thin views over ``service``, ``joining`` and ``membership``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.alliances import joining, membership, service
from server.alliances.schemas import (
    AllianceBanSchema,
    AllianceCreateSchema,
    AllianceInviteCreateSchema,
    AllianceInviteSchema,
    AllianceJoinSchema,
    AllianceListArgs,
    AllianceMemberArgs,
    AllianceMemberSchema,
    AllianceRoleSchema,
    AllianceSchema,
    AllianceUpdateSchema,
    JoinDecisionSchema,
    JoinRequestSchema,
    NewAllianceInviteSchema,
)
from server.api import Blueprint, current_member
from server.auth.limits import member_key
from server.common.pagination import PageArgs, page_schema
from server.extensions import limiter

blp = Blueprint(
    "alliances", __name__, url_prefix="/api/v1/alliances", description="微聯盟 alliances"
)


@blp.route("")
class Alliances(MethodView):
    decorators = [limiter.limit("10/day", key_func=member_key, methods=["POST"])]

    @blp.doc(operationId="listAlliances")
    @blp.auth()
    @blp.arguments(AllianceListArgs, location="query")
    @blp.response(200, page_schema(AllianceSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Alliances to discover (public and private) or the caller's own; by city, tag, name"""
        return service.list_alliances(current_member(), **args)

    @blp.doc(operationId="createAlliance")
    @blp.auth()
    @blp.arguments(AllianceCreateSchema)
    @blp.response(201, AllianceSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, data: dict[str, Any]) -> Any:
        """Start an alliance; the caller becomes its owner"""
        return service.create_alliance(current_member(), data)


@blp.route("/<id:alliance_id>")
class AllianceItem(MethodView):
    @blp.doc(operationId="getAlliance")
    @blp.auth()
    @blp.response(200, AllianceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, alliance_id: int) -> Any:
        """One alliance (a secret one only for its members)"""
        return service.get_alliance(current_member(), alliance_id)

    @blp.doc(operationId="updateAlliance")
    @blp.auth()
    @blp.arguments(AllianceUpdateSchema)
    @blp.response(200, AllianceSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], alliance_id: int) -> Any:
        """Change an alliance (owner and admins)"""
        return service.update_alliance(current_member(), alliance_id, changes)


@blp.route("/<id:alliance_id>/join")
class Join(MethodView):
    decorators = [limiter.limit("30/hour", key_func=member_key)]

    @blp.doc(operationId="joinAlliance")
    @blp.auth()
    @blp.arguments(AllianceJoinSchema)
    @blp.response(200, AllianceSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], alliance_id: int) -> Any:
        """Join a public alliance, or ask to join a private one"""
        return joining.join_alliance(current_member(), alliance_id, data["message"])


@blp.route("/<id:alliance_id>/leave")
class Leave(MethodView):
    @blp.doc(operationId="leaveAlliance")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, alliance_id: int) -> None:
        """Leave an alliance (its owner hands it over first)"""
        membership.leave_alliance(current_member(), alliance_id)


@blp.route("/<id:alliance_id>/requests")
class Requests(MethodView):
    @blp.doc(operationId="listAllianceJoinRequests")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(JoinRequestSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], alliance_id: int) -> Any:
        """Pending requests to join, oldest first (owner and admins)"""
        return joining.list_join_requests(current_member(), alliance_id, **args)


@blp.route("/<id:alliance_id>/requests/<id:request_id>")
class RequestDecision(MethodView):
    @blp.doc(operationId="decideAllianceJoinRequest")
    @blp.auth()
    @blp.arguments(JoinDecisionSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], alliance_id: int, request_id: int) -> None:
        """Approve or reject a request (owner and admins); the requester is told"""
        approve = data["decision"] == "approve"
        joining.decide_join_request(current_member(), alliance_id, request_id, approve)


@blp.route("/<id:alliance_id>/invites")
class Invites(MethodView):
    @blp.doc(operationId="listAllianceInvites")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AllianceInviteSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], alliance_id: int) -> Any:
        """Invite links that still work, newest first (owner and admins)"""
        return joining.list_invites(current_member(), alliance_id, **args)

    @blp.doc(operationId="createAllianceInvite")
    @blp.auth()
    @blp.arguments(AllianceInviteCreateSchema)
    @blp.response(201, NewAllianceInviteSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], alliance_id: int) -> Any:
        """Make an invite link with an expiry and a use limit; its code is shown only now"""
        invite, code = joining.create_invite(current_member(), alliance_id, data)
        return {**{c: getattr(invite, c) for c in ("id", "expires_at", "max_uses", "uses",
                                                    "created_at")}, "code": code}  # fmt: skip


@blp.route("/<id:alliance_id>/invites/<id:invite_id>")
class Invite(MethodView):
    @blp.doc(operationId="revokeAllianceInvite")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, alliance_id: int, invite_id: int) -> None:
        """Revoke an invite link"""
        joining.revoke_invite(current_member(), alliance_id, invite_id)


@blp.route("/invites/<string(length=24):code>/accept")
class AcceptInvite(MethodView):
    decorators = [limiter.limit("20/hour", key_func=member_key)]

    @blp.doc(operationId="acceptAllianceInvite")
    @blp.auth()
    @blp.response(200, AllianceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, code: str) -> Any:
        """Join through an invite link (any visibility)"""
        return joining.accept_invite(current_member(), code)


@blp.route("/<id:alliance_id>/members")
class Members(MethodView):
    @blp.doc(operationId="listAllianceMembers")
    @blp.auth()
    @blp.arguments(AllianceMemberArgs, location="query")
    @blp.response(200, page_schema(AllianceMemberSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], alliance_id: int) -> Any:
        """The member directory, searchable by name (members only, unless public)"""
        return membership.list_members(current_member(), alliance_id, **args)


@blp.route("/<id:alliance_id>/members/<id:member_id>")
class AllianceMemberItem(MethodView):
    @blp.doc(operationId="setAllianceMemberRole")
    @blp.auth()
    @blp.arguments(AllianceRoleSchema)
    @blp.response(200, AllianceSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], alliance_id: int, member_id: int) -> Any:
        """Set a member's role (the owner); ``owner`` hands the alliance over"""
        return membership.set_member_role(current_member(), alliance_id, member_id, data["role"])

    @blp.doc(operationId="removeAllianceMember")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, alliance_id: int, member_id: int) -> None:
        """Remove a member (admins remove members; the owner removes admins too)"""
        membership.remove_member(current_member(), alliance_id, member_id)


@blp.route("/<id:alliance_id>/bans")
class Bans(MethodView):
    @blp.doc(operationId="banAllianceMember")
    @blp.auth()
    @blp.arguments(AllianceBanSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], alliance_id: int) -> None:
        """Ban someone: removed, and kept out of requests, joins and invites"""
        membership.ban_member(current_member(), alliance_id, data["member_id"], data["reason"])


@blp.route("/<id:alliance_id>/bans/<id:member_id>")
class Ban(MethodView):
    @blp.doc(operationId="unbanAllianceMember")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, alliance_id: int, member_id: int) -> None:
        """Lift a ban: by someone who outranks the member and holds at least the rank of
        whoever banned them (site staff lift any)"""
        membership.unban_member(current_member(), alliance_id, member_id)
