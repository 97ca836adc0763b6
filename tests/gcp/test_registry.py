"""Artifact Registry keeps a bounded set of release images, not every image forever."""

from __future__ import annotations


def test_cleanup_keeps_recent_releases_and_deletes_older_tagged_and_untagged(synth):
    repo = synth.one("google_artifact_registry_repository", "Images/Repository")
    assert repo["cleanup_policy_dry_run"] is False
    policies = {p["id"]: p for p in repo["cleanup_policies"]}
    keep, retention = {"staging": (10, 30), "production": (20, 90)}[synth.config.environment.value]
    assert policies["keep-recent"]["action"] == "KEEP"
    assert policies["keep-recent"]["most_recent_versions"] == {"keep_count": keep}
    # Release images (tagged with their commit) older than the retention go, except the most recent ones kept above.
    assert policies["delete-old-releases"]["action"] == "DELETE"
    assert policies["delete-old-releases"]["condition"] == {"tag_state": "TAGGED", "older_than": f"{retention * 86400}s"}
    assert policies["delete-old-untagged"]["condition"] == {"tag_state": "UNTAGGED", "older_than": f"{14 * 86400}s"}
