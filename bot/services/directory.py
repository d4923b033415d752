"""People and roles: members, officers and where to reach them."""

from __future__ import annotations

from ..clock import Clock
from ..errors import BadInput, NotFound
from ..storage.repositories import AuditRepository, Member, MemberRepository

PLATFORMS = ("console", "slack", "teams")


def parse_member_ref(ref: str) -> tuple[str, str]:
    """'slack:U123' -> ('slack', 'U123'). The platform must be one we serve."""
    platform, sep, user_id = ref.partition(":")
    platform = platform.strip().lower()
    user_id = user_id.strip()
    if not sep or platform not in PLATFORMS or not user_id:
        raise BadInput(
            f"'{ref}' is not a member reference. Use PLATFORM:USER_ID, "
            "for example slack:U0123ABCD, teams:29:1a2b... or console:alice."
        )
    return platform, user_id


class Directory:
    def __init__(self, members: MemberRepository, audit: AuditRepository, clock: Clock):
        self.members = members
        self.audit = audit
        self.clock = clock

    def resolve(self, ref: str) -> Member:
        platform, user_id = parse_member_ref(ref)
        member = self.members.find(platform, user_id)
        if member is None:
            raise NotFound(f"no member {platform}:{user_id} is known yet")
        return member

    def add_officer(self, ref: str, actor: str) -> Member:
        platform, user_id = parse_member_ref(ref)
        member = self.members.ensure(platform, user_id, self.clock.now(), touch=False)
        if not member.is_officer:
            self.members.set_role(member.id, "officer")
            self.audit.record(actor, "officer.add", self.clock.now(), member=f"{platform}:{user_id}")
        return self.members.get(member.id) or member

    def remove_officer(self, ref: str, actor: str) -> Member:
        member = self.resolve(ref)
        if not member.is_officer:
            raise NotFound(f"{ref} is not an officer")
        self.members.set_role(member.id, "member")
        self.audit.record(actor, "officer.remove", self.clock.now(), member=ref)
        return self.members.get(member.id) or member

    def officers(self) -> list[Member]:
        return self.members.officers()
