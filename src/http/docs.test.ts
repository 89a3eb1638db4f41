import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { docsPlugin, isDocsPath } from "./docs";

const app = new Elysia()
  .use(docsPlugin({ version: "1.2.3", exclude: ["/metrics"] }))
  .post("/api/jobs", ({ body }) => ({ id: "01J", model: body.model }), {
    body: t.Object({ model: t.String(), prompt: t.String({ minLength: 1 }) }),
  })
  .get("/metrics", () => "")
  .get("/secret", () => "", { detail: { hide: true } });

// Elysia's router mis-parses single-letter hosts, hence "localhost".
const get = (path: string) => app.handle(new Request(`http://localhost${path}`));

describe("docs plugin", () => {
  test("/docs is Swagger UI referencing only foreman-served assets", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html).toContain("SwaggerUIBundle");
    expect(html).not.toMatch(/https?:\/\//);

    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.sort()).toEqual(["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"]);
    for (const url of assets) {
      expect(isDocsPath(url)).toBe(true);
      const asset = await get(url);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toStartWith(url.endsWith(".js") ? "text/javascript" : "text/css");
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
  });

  test("/docs/json documents the route's schema and the bearer scheme, and nothing else", async () => {
    const res = await get("/docs/json");
    expect(res.status).toBe(200);
    const spec = await res.json();
    expect(spec.info).toMatchObject({ title: "foreman", version: "1.2.3" });
    expect(spec.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
    expect(spec.security).toEqual([{ bearerAuth: [] }]);

    const body = spec.paths["/api/jobs"].post.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["model", "prompt"]);
    expect(body.properties.prompt).toMatchObject({ type: "string", minLength: 1 });
    expect(Object.keys(spec.paths)).toEqual(["/api/jobs"]); // no docs, excluded or hidden routes
  });

  test("isDocsPath whitelists exactly the docs page, document and assets", () => {
    for (const p of ["/docs", "/docs/json", "/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js"]) {
      expect(isDocsPath(p)).toBe(true);
    }
    for (const p of ["/", "/docsx", "/docs/", "/docs/assets/", "/docs/assets/other.js", "/api/jobs"]) {
      expect(isDocsPath(p)).toBe(false);
    }
  });
});
