// Conv2D → k×k S→R → 1×1 R→T by Tucker-1 on the output mode: the channel-svd chain, other factors.
import { partialTucker } from "../decompositions.ts";
import { tucker1Kernels } from "../layout.ts";
import { channelChain } from "./channel-chain.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

export const tucker1: MethodSpec = registerMethod({
  ...channelChain,
  name: "tucker1", token: "tucker1", chain: "k×k S→R → 1×1 R→T (Tucker-1 on the output mode)",
  cli: { aliases: [], shown: [{ name: "tucker1", at: 5 }] },
  kernels(layer, ranks, o) {
    const { core, factors } = partialTucker(layer.kernel, ranks, [3], o);
    return tucker1Kernels(core, factors[0]);
  },
});
