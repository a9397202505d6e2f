"""Infrastructure provisioners a pipeline's steps drive: CloudFormation stacks (cloudformation.py).

Like corral.ecs, this package talks to AWS through boto3 and imports nothing of corral.engine;
wiring/cloudformation_steps.py maps Harness's step specs onto it.
"""
