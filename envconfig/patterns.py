"""Value patterns shared by the AWS and GCP configuration loaders."""

# owner/name as GitHub's OIDC tokens spell it: never a URL and never ".git"
# (the trust subjects "repo:owner/name.git:..." are never issued).
GITHUB_REPO = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/(?![A-Za-z0-9._-]*\.git$)(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}"
GITHUB_REPO_RULE = "must be a GitHub repository of the form owner/name (no URL, no .git)"
# A browser origin: scheme, host and optional port; a path never matches an Origin header.
ORIGIN = r"https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
