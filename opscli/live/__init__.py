"""Live readers: each module fetches one resource family's state once and
returns plain typed snapshots (no judgement). The rules in ``opscli.rules``
judge those snapshots; ``verify`` and ``detect-drift`` run the same rules."""
