"""gates.checkov.run_checkov_per_file: one checkov run, results split by file (tests/gcp/conftest.py uses it)."""

from __future__ import annotations

import json

from gates.checkov import Skip, apply_scoped_skips, parse_report_per_file


def _check(check_id: str, resource: str, path: str) -> dict:
    return {"check_id": check_id, "check_name": check_id.lower(), "resource": resource,
            "file_path": "/../" + path.rsplit("/", 2)[-2] + "/cdk.tf.json", "file_abs_path": path}


def test_counts_and_findings_are_split_by_absolute_path():
    a, b = "/out/stacks/gcp-staging/cdk.tf.json", "/out/stacks/gcp-production/cdk.tf.json"
    report = {"check_type": "terraform_json",
              "summary": {"passed": 3, "failed": 2, "skipped": 1, "resource_count": 0},
              "results": {"passed_checks": [_check("CKV_1", "x.a", a), _check("CKV_2", "x.a", a), _check("CKV_1", "x.b", b)],
                          "failed_checks": [_check("CKV_9", "x.b", b), _check("CKV_8", "x.c", b)],
                          "skipped_checks": [_check("CKV_7", "x.a", a)]}}
    split = parse_report_per_file(json.dumps(report))
    assert (split[a].passed, split[a].failed, split[a].skipped, split[a].resource_count) == (2, 0, 1, 1)
    assert (split[b].passed, split[b].failed, split[b].skipped, split[b].resource_count) == (1, 2, 0, 2)
    assert [f.check_id for f in split[b].findings] == ["CKV_9", "CKV_8"] and split[a].findings == ()
    # A list of reports (several frameworks) is summed per file; a scoped skip then applies per file.
    both = parse_report_per_file(json.dumps([report, report]))
    assert both[b].failed == 4
    scoped = apply_scoped_skips(split[b], [Skip("CKV_9", "a specific reason for this test", ("x.b",))])
    assert (scoped.failed, scoped.skipped) == (1, 1)


def test_empty_output_is_no_result():
    assert parse_report_per_file("") == {}
