"""``/api/v1/me`` (the member's own account) and ``/api/v1/members`` (the directory)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api import Blueprint, current_member
from server.auth.limits import guarded_password_check
from server.auth.service import delete_account
from server.common import privacy
from server.common.i18n import pick
from server.common.pagination import PageArgs, page_schema, whole
from server.common.time import utcnow
from server.members import blocks, service
from server.members.occupations import OCCUPATIONS
from server.members.schemas import (
    BlockSchema,
    ConsentSchema,
    DeleteAccountSchema,
    DirectoryArgs,
    ExportSchema,
    MemberCardSchema,
    MeSchema,
    MeUpdateSchema,
    OccupationSchema,
    PublicMemberSchema,
    RoleSchema,
)

blp = Blueprint("members", __name__, url_prefix="/api/v1", description="Members and profiles")


@blp.route("/me")
class Me(MethodView):
    decorators = [guarded_password_check(["DELETE"])]

    @blp.doc(operationId="getMe")
    @blp.auth()
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """The signed-in member's own account"""
        return current_member()

    @blp.doc(operationId="updateMe")
    @blp.auth()
    @blp.arguments(MeUpdateSchema(partial=True))
    @blp.response(200, MeSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes: dict[str, Any]) -> Any:
        """Change one's own profile and settings"""
        return service.update_profile(current_member(), changes)

    @blp.doc(operationId="deleteMe")
    @blp.auth()
    @blp.arguments(DeleteAccountSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    def delete(self, data: dict[str, Any]) -> None:
        """Delete the account: personal data erased, authored content anonymised"""
        delete_account(current_member(), data["password"])


@blp.route("/me/export")
class MyExport(MethodView):
    @blp.doc(operationId="exportMe")
    @blp.auth()
    @blp.response(200, ExportSchema)
    def get(self) -> Any:
        """Everything the platform holds about the signed-in member, as JSON"""
        return {
            "generated_at": utcnow(),
            "member_id": current_member().id,
            "sections": privacy.export_member(current_member().id),
        }


@blp.route("/me/privacy-consent")
class MyConsent(MethodView):
    @blp.doc(operationId="acceptPrivacyPolicy")
    @blp.auth()
    @blp.arguments(ConsentSchema)
    @blp.response(200, MeSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Accept the current privacy-policy version"""
        return service.record_consent(current_member(), data["privacy_policy_version"])


@blp.route("/me/blocks")
class MyBlocks(MethodView):
    @blp.doc(operationId="listBlockedMembers")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(BlockSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The members one has blocked, most recently blocked first"""
        return blocks.list_blocks(current_member(), **args)


@blp.route("/members/<id:member_id>/block")
class BlockItem(MethodView):
    @blp.doc(operationId="blockMember")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, member_id: int) -> None:
        """Block a member: no conversations, one-to-one messages, mentions or replies from them"""
        blocks.block_member(current_member(), member_id)

    @blp.doc(operationId="unblockMember")
    @blp.auth()
    @blp.response(204)
    def delete(self, member_id: int) -> None:
        """Unblock a member"""
        blocks.unblock_member(current_member(), member_id)


@blp.route("/members")
class Directory(MethodView):
    @blp.doc(operationId="listMembers")
    @blp.auth()
    @blp.arguments(DirectoryArgs, location="query")
    @blp.response(200, page_schema(PublicMemberSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The member directory, newest first; search by name, city and occupation"""
        return service.list_members(current_member(), **args)


@blp.route("/members/<id:member_id>")
class MemberProfile(MethodView):
    @blp.doc(operationId="getMember")
    @blp.auth()
    @blp.response(200, PublicMemberSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: int) -> Any:
        """A member's public profile (a hidden profile shows only its card)"""
        member = service.get_visible_member(member_id)
        if service.shows_full_profile(member, current_member()):
            return member
        return MemberCardSchema().dump(member)


@blp.route("/members/<id:member_id>/role")
class MemberRole(MethodView):
    @blp.doc(operationId="setMemberRole")
    @blp.auth(roles={"admin"})
    @blp.arguments(RoleSchema)
    @blp.response(200, PublicMemberSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def put(self, data: dict[str, Any], member_id: int) -> Any:
        """Give a member a global role (admins only)"""
        return service.set_member_role(current_member(), member_id, data["role"])


@blp.route("/members/occupations")
class Occupations(MethodView):
    @blp.doc(operationId="listOccupations")
    @blp.auth()
    @blp.response(200, page_schema(OccupationSchema))
    def get(self) -> Any:
        """The occupation tags a profile may carry, with labels in the caller's language"""
        return whole({"tag": tag, "label": pick(labels)} for tag, labels in OCCUPATIONS.items())
