"""GitHub Actions OIDC: the provider (created or imported) and roles trusted through it."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"


class GitHubOidc(Construct):
    """The account's GitHub OIDC provider and a factory for roles it may assume.

    Only one provider per issuer may exist in an account, so either
    ``create_provider`` (a native ``AWS::IAM::OIDCProvider``: no custom-resource
    Lambda) or ``existing_provider_arn``; passing both is an error.

    Roles made by :meth:`role` trust the provider only with ``StringEquals``
    on ``aud`` = ``sts.amazonaws.com`` and on ``sub`` = exactly ``subjects``
    (for example ``repo:owner/name:environment:staging``); a wildcard
    subject is refused, because ``repo:owner/name:*`` lets every branch and
    pull request of the repository assume the role. A subject trusted by one
    role is refused for a second: one GitHub environment per purpose, so a job
    that may deploy cannot also act as the Oracle (docs/requirements.md#trust).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        subjects: Sequence[str],
        create_provider: bool,
        existing_provider_arn: str | None = None,
        max_session_duration: Duration = Duration.hours(1),
    ) -> None:
        super().__init__(scope, id_)
        if create_provider == bool(existing_provider_arn):
            raise ValueError("GitHubOidc: give exactly one of create_provider=True or existing_provider_arn")
        _check_subjects(subjects)
        if create_provider:
            self.provider: iam.IOidcProvider = iam.OidcProviderNative(
                self, "Provider", url=f"https://{GITHUB_ISSUER}", client_ids=[AUDIENCE], removal_policy=RemovalPolicy.RETAIN,
            )
        else:
            self.provider = iam.OidcProviderNative.from_oidc_provider_arn(self, "Provider", existing_provider_arn)
        self.subjects = tuple(subjects)
        self.max_session_duration = max_session_duration
        self.trusted_by: dict[str, str] = {}  # subject -> the role id that trusts it

    def principal(self, subjects: Sequence[str] | None = None) -> iam.IPrincipal:
        subjects = self.subjects if subjects is None else _check_subjects(subjects)
        return iam.WebIdentityPrincipal(
            self.provider.oidc_provider_arn,
            conditions={"StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": list(subjects)}},
        )

    def role(self, id_: str, *, role_name: str, description: str, subjects: Sequence[str] | None = None) -> iam.Role:
        """A role trusted by ``subjects`` (default: the construct's subjects), none of them trusted by another role."""
        for subject in self.subjects if subjects is None else subjects:
            if subject in self.trusted_by:
                raise ValueError(f"GitHubOidc: subject {subject!r} already opens role {self.trusted_by[subject]!r}; "
                                 f"{id_!r} needs its own GitHub environment (one identity per purpose)")
            self.trusted_by[subject] = id_
        return iam.Role(
            self, id_, role_name=role_name, description=description,
            assumed_by=self.principal(subjects), max_session_duration=self.max_session_duration,
        )


def _check_subjects(subjects: Sequence[str]) -> tuple[str, ...]:
    for subject in subjects:
        if "*" in subject or "?" in subject or not subject.startswith("repo:"):
            raise ValueError(f"GitHubOidc: subject {subject!r} must be an exact 'repo:<owner>/<name>:...' value, never a pattern")
    if not subjects:
        raise ValueError("GitHubOidc: a role needs at least one subject")
    return tuple(subjects)
