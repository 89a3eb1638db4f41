import { expect, test } from "bun:test";
import { drainKey, normalizeModel } from "./names";

test("normalizes like Ollama: case, :latest, default registry and namespace", () => {
  expect(normalizeModel("llama3.2")).toBe("llama3.2:latest");
  expect(normalizeModel("LLaMA3.2:LATEST")).toBe("llama3.2:latest");
  expect(normalizeModel("registry.ollama.ai/library/llama3.2")).toBe("llama3.2:latest");
  expect(normalizeModel("library/qwen2.5:7b")).toBe("qwen2.5:7b");
  expect(normalizeModel("hf.co/user/repo:Q4_K_M")).toBe("hf.co/user/repo:q4_k_m");
  expect(normalizeModel("user/model")).toBe("user/model:latest");
});

test("drain key separates runner options that force a reload, ignores runtime options", () => {
  expect(drainKey("llama3.2", { temperature: 0.1 })).toBe("llama3.2:latest");
  expect(drainKey("llama3.2", { num_ctx: 8192 })).toBe("llama3.2:latest|num_ctx=8192");
  expect(drainKey("llama3.2", { num_gpu: -1 })).toBe("llama3.2:latest");
});
