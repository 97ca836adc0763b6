"""The local AWS target: moto, pinned, started by the project on 127.0.0.1,
with the CloudFormation extensions in :mod:`localaws.cfn` installed.

``bin/local-aws start|stop|status`` drives it (:mod:`localaws.control`);
the server process itself is :mod:`localaws.server`.
"""
