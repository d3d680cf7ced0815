// Conv2D → k×k S→R → 1×1 R→T, from a truncated SVD of the (kh·kw·S) × T reshape of the kernel.
import { truncatedSvd } from "../decompositions.ts";
import { channelKernels, convChannelMatrix, denseFromSvd } from "../layout.ts";
import { channelChain } from "./channel-chain.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

export const channel: MethodSpec = registerMethod({
  ...channelChain,
  name: "channel-svd", token: "channel", chain: "k×k S→R → 1×1 R→T",
  cli: { aliases: ["channel", "svd"], shown: [{ name: "svd", at: 2, note: "channel SVD" }, { name: "channel", at: 4 }] },
  kernels(layer, ranks, o) {
    const K = layer.kernel;
    const { u, s, v } = truncatedSvd(convChannelMatrix(K), ranks[0], o);
    const { first, second } = denseFromSvd(u, s, v);
    return channelKernels(first, second, K.shape[0], K.shape[1]);
  },
});
