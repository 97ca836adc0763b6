"""bin/deploy-local skips the gates only for a synthesis whose digest already passed them."""
from __future__ import annotations

from opscli import gate_stamp
from tests.ops.test_release import write_assembly


def check(assembly, stamp) -> int:
    return gate_stamp.main(["check", "--assembly", str(assembly), "--stamp", str(stamp)])


def test_a_recorded_synthesis_is_skipped_and_any_change_is_gated_again(tmp_path, monkeypatch, capsys):
    out, stamp = tmp_path / "cdk.out", tmp_path / "state" / "gates-passed.json"
    write_assembly(out, "Staging")
    write_assembly(out, "Production")
    assert check(out, stamp) == 1  # never passed
    assert gate_stamp.main(["record", "--assembly", str(out), "--stamp", str(stamp)]) == 0
    assert check(out, stamp) == 0 and "the gates passed this synthesis" in capsys.readouterr().out

    write_assembly(out, "Staging")  # synthesized again, same content (tree.json and metadata differ)
    assert check(out, stamp) == 0

    write_assembly(out, "Production", threshold=11)  # another stage's template
    assert check(out, stamp) == 1
    write_assembly(out, "Production")
    write_assembly(out, "Staging", code="def handler(): return 1\n")  # the Lambda code asset
    assert check(out, stamp) == 1


def test_a_gcp_source_change_is_gated_again(tmp_path, monkeypatch):
    out, stamp = tmp_path / "cdk.out", tmp_path / "gates-passed.json"
    write_assembly(out, "Staging")
    gate_stamp.main(["record", "--assembly", str(out), "--stamp", str(stamp)])
    monkeypatch.setattr(gate_stamp, "gcp_sources_digest", lambda root=None: "changed")
    assert check(out, stamp) == 1


def test_a_corrupt_stamp_means_gate_again(tmp_path):
    out, stamp = tmp_path / "cdk.out", tmp_path / "gates-passed.json"
    write_assembly(out, "Staging")
    stamp.write_text("{not json")
    assert check(out, stamp) == 1
