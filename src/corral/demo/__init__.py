"""`corral demo`: a real deployment against an embedded sandbox.

from corral.demo import prepare_sandbox  # what the examples/sandbox-demo pipelines need
"""

from corral.demo.prepare import pipeline_inputs, prepare_sandbox

__all__ = ["pipeline_inputs", "prepare_sandbox"]
