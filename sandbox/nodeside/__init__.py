"""Node-side programs of the sandbox cluster (see sandbox/README.md).

These run inside every SSH session of a sandbox node (``kato``) and under
each DEA's supervisord (``fence``), so they must start fast: no Django, and
heavy libraries (redis, docker, supervisor's XML-RPC client) are imported
only by the code paths that need them.

Modules, one job each:
  jsonfile         atomic JSON file writes shared by the state files below
  versions         what each emulated kato version changes
  cluster_file     sandbox.json: the cluster, this node, lookups by address
  config_store     the kato config in config_redis (+ ``seed`` for the orchestrator)
  faults           per-node fault knobs in faults.json
  supervisor_conf  a DEA's supervisord.conf, start/stop helpers, XML-RPC client
  fence            the fence program supervisord runs
  resp             a minimal Redis client: fence's start must be fast
  engine_check     does a node's Docker engine hold an image (one API call)
  fence_status     fence's state: supervisord joined with fence.json
  yaml_emit        the tiny YAML emitter ``kato config get`` uses
  kato_config      ``kato config get|set``
  kato_process     ``kato process list|restart`` and ``kato status``
  kato             the ``kato`` command line
"""
