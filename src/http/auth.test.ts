// Every route the router knows needs the token, except the public ones. Enumerating the router
// means a route added later cannot slip through unprotected.
import { expect, test } from "bun:test";
import { loadConfig } from "../config";
import type { Services } from "../services";
import { createApp } from "./app";
import { tokenMatches } from "./auth";

const PUBLIC = new Set(["/healthz", "/docs", "/docs/json", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/ui", "/ui/"]);

function app(env: Record<string, string>) {
  // Handlers never run for a refused request, so the services can be empty stand-ins.
  const unused = new Proxy({}, { get: () => { throw new Error("a handler ran without the token"); } });
  const services = { config: loadConfig({ FOREMAN_TOKEN: "secret", ...env }) } as unknown as Services;
  for (const k of ["db", "store", "client", "hub", "worker", "queue", "dispatcher"]) (services as any)[k] = unused;
  (services as any).inventory = { degraded: false }; // for the public /healthz
  return createApp(services);
}

const concrete = (path: string) => path.replace(/:id/g, "01ARZ3NDEKTSV4RRFFQ69G5FAV").replace(/:[a-z]+/g, "x").replace(/\*/g, "x");

test("every non-public route answers 401 without the token", async () => {
  const a = app({});
  const routes = a.routes.filter((r) => r.method !== "OPTIONS");
  expect(routes.length).toBeGreaterThan(30);
  for (const r of routes) {
    const path = concrete(r.path);
    const res = await a.handle(new Request(`http://localhost${path}`, { method: r.method }));
    if (PUBLIC.has(path)) {
      expect({ path, status: res.status }).not.toEqual({ path, status: 401 });
    } else {
      expect({ method: r.method, path, status: res.status }).toEqual({ method: r.method, path, status: 401 });
    }
  }
});

test("/metrics is public only with FOREMAN_METRICS_PUBLIC", async () => {
  expect((await app({}).handle(new Request("http://localhost/metrics"))).status).toBe(401);
  const open = await app({ FOREMAN_METRICS_PUBLIC: "true" }).handle(new Request("http://localhost/metrics"));
  expect(open.status).toBe(200);
});

test("token comparison", () => {
  expect(tokenMatches("secret", "secret")).toBe(true);
  expect(tokenMatches("secreT", "secret")).toBe(false);
  expect(tokenMatches("", "secret")).toBe(false);
  expect(tokenMatches("secret-and-more", "secret")).toBe(false);
});
