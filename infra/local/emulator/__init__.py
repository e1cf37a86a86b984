"""The embedded local AWS: the synthesized template provisioned onto moto, the real handlers run in process."""
