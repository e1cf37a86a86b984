"""The embedded local AWS: the synthesized CDK template provisioned onto moto, with the real handlers."""
