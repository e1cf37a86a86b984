"""The two Lambda layers, built by pip on this machine (layers/build.py), never in Docker."""

from __future__ import annotations

from aws_cdk import AssetHashType, BundlingOptions
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.function import ARCHITECTURE, RUNTIME
from layers import build

LAYERS_DIR = build.ROOT / "layers"


class Layers(Construct):
    """`deps` (powertools, pydantic) for every function; `nlp` (jieba, snownlp) for the scorer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.deps = self._layer(
            "DepsLayer", "deps", "crisiswatch run-time dependencies (powertools, pydantic)"
        )
        self.nlp = self._layer("NlpLayer", "nlp", "jieba + snownlp, trimmed of training data")

    def _layer(self, construct_id: str, name: str, description: str) -> lambda_.LayerVersion:
        code = lambda_.Code.from_asset(
            str(LAYERS_DIR),
            # The source directory holds only the recipe; the hash covers the pins, pip flags and
            # trim rules, so an unchanged layer is not rebuilt (CDK reuses cdk.out/asset.<hash>).
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=build.asset_hash(name),
            exclude=["**/__pycache__"],
            bundling=BundlingOptions(
                image=RUNTIME.bundling_image,  # declared for completeness; never pulled
                local=build.LocalPipBundling(name),
                command=["false"],  # Docker bundling is unsupported: local bundling must succeed
            ),
        )
        return lambda_.LayerVersion(
            self,
            construct_id,
            code=code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=description,
        )
