# Sourced by the bin/ scripts: environment shared by every command.
# Node 20 is end of life; jsii warns on every run. The pinned CLIs still run on
# it; silence the banner so real warnings stay visible.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CHECKPOINT_DISABLE=1          # cdktf: no telemetry calls (no network here)
export CDK_DISABLE_VERSION_CHECK=1   # cdk: no update check
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
