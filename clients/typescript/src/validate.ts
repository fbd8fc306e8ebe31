/**
 * The run-time half of the check: every response the client receives is validated (Ajv, JSON
 * Schema) against the response schema the OpenAPI document declares for its operation and
 * status, the same document the types were generated from. An undocumented status fails too.
 */
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import type { Middleware } from "openapi-fetch";
import addFormatsModule from "ajv-formats";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ROOT_ID = "openapi";

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** OpenAPI 3.0 → JSON Schema: `nullable: true` becomes `anyOf [schema, null]`, and local
 * `$ref`s point into the document registered under ROOT_ID. */
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) {
    return node.map(toJsonSchema);
  }
  if (!isObject(node)) {
    return node;
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith("#/")) {
      out[key] = `${ROOT_ID}${value}`;
    } else if (key !== "nullable" && key !== "discriminator") {
      out[key] = toJsonSchema(value);
    }
  }
  if (node["nullable"] === true) {
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

function child(node: Json | undefined, key: string): Json | undefined {
  return isObject(node) ? node[key] : undefined;
}

export function responseValidator(schemaPath: string) {
  const document: Json = JSON.parse(readFileSync(schemaPath, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = addFormatsModule.default;
  addFormats(ajv);
  ajv.addFormat("decimal", true);
  ajv.addSchema({ $id: ROOT_ID, components: toJsonSchema(child(document, "components") ?? {}) });
  const seen: string[] = [];

  const middleware: Middleware = {
    async onResponse({ request, response, schemaPath: path }) {
      const method = request.method.toLowerCase();
      const status = String(response.status);
      const responses = child(child(child(child(document, "paths"), path), method), "responses");
      const declared = child(responses, status);
      if (declared === undefined) {
        throw new Error(`${request.method} ${path}: status ${status} is not documented`);
      }
      const schema = child(child(child(declared, "content"), "application/json"), "schema");
      if (schema === undefined) {
        // No body declared (204): none may come.
        const text = await response.clone().text();
        if (text !== "") {
          throw new Error(`${request.method} ${path} ${status}: a body came, none is declared`);
        }
        return undefined;
      }
      const body: Json = await response.clone().json();
      const converted = toJsonSchema(schema);
      if (!isObject(converted)) {
        throw new Error(`${request.method} ${path} ${status}: the response schema is not an object`);
      }
      const validate = ajv.compile(converted);
      if (!validate(body)) {
        const problems = JSON.stringify(validate.errors, null, 1);
        throw new Error(
          `${request.method} ${path} ${status}: the body does not match its schema: ${problems}\n` +
            `body: ${JSON.stringify(body)}`,
        );
      }
      seen.push(`${request.method} ${path} ${status}`);
      return undefined;
    },
  };
  return { middleware, validated: () => seen.length, seen: () => [...seen] };
}
