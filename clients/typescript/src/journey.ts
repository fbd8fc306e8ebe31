/**
 * A frontend's journey through the Strathwell API with the generated types (openapi-typescript)
 * and openapi-fetch, under strict TypeScript: sign up, subscribe, browse templates and vendors,
 * create and submit a booking, the vendor approves, read it back, and three wrong calls whose
 * `error.code` is switched on exhaustively. Every response body is validated at run time against
 * the schema the types were generated from (`./validate.ts`).
 *
 * Environment: API_BASE_URL (e.g. http://127.0.0.1:8000), OPENAPI_SCHEMA_JSON (the schema,
 * JSON), VENDOR_EMAIL, VENDOR_PASSWORD (an approved vendor's login), VENDOR_ID (its vendor id).
 */
import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";
import { responseValidator } from "./validate.js";

type ErrorCode = components["schemas"]["ErrorCodeEnum"];
type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`journey: ${what}`);
  }
}

const baseUrl = env("API_BASE_URL");
const validator = responseValidator(env("OPENAPI_SCHEMA_JSON"));

function clientFor(access?: string) {
  const client = createClient<paths>({
    baseUrl,
    headers: access === undefined ? {} : { Authorization: `Bearer ${access}` },
  });
  client.use(validator.middleware);
  return client;
}

/** What a frontend shows for each error: exhaustive, so a new code fails `tsc`. */
function describe(code: ErrorCode): string {
  switch (code) {
    case "validation_error":
    case "invalid_payload":
    case "bad_request":
    case "invalid_host":
    case "uri_too_long":
    case "headers_too_large":
    case "expectation_failed":
    case "payload_too_large":
    case "unsupported_media_type":
    case "not_acceptable":
    case "method_not_allowed":
      return "fix the form";
    case "invalid_signature":
    case "livemode_mismatch":
      return "webhook refused";
    case "not_authenticated":
    case "invalid_credentials":
    case "token_invalid":
    case "token_reused":
    case "otp_required":
    case "invalid_otp":
    case "otp_setup_required":
      return "sign in again";
    case "payment_failed":
    case "payment_provider_error":
      return "payment problem";
    case "permission_denied":
    case "subscription_required":
    case "vendor_not_approved":
      return "not allowed";
    case "not_found":
      return "not found";
    case "invalid_transition":
    case "balance_due":
    case "nothing_to_refund":
    case "already_exists":
    case "idempotency_conflict":
    case "vendor_unavailable":
    case "upload_quota_exceeded":
    case "confirmation_required":
      return "conflict";
    case "throttled":
    case "account_locked":
      return "slow down";
    case "server_error":
    case "not_implemented":
    case "read_only_mode":
      return "try later";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

function expectError(error: ErrorEnvelope | undefined, code: ErrorCode, status: number, got: number) {
  check(error !== undefined, `expected error ${code}, got success (${got})`);
  check(got === status, `expected HTTP ${status} for ${code}, got ${got}`);
  check(error.error.code === code, `expected ${code}, got ${error.error.code}`);
  console.log(`  ${status} ${error.error.code} → ${describe(error.error.code)}`);
}

function futureDate(days: number): string {
  const date = new Date(Date.now() + days * 86_400_000);
  return date.toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const anonymous = clientFor();

  // 1. Sign up an organizer: no subscription yet, so its dates are null (not 1970).
  const email = `ts-journey-${Date.now()}@example.com`;
  const signup = await anonymous.POST("/api/v1/auth/signup", {
    body: { email, password: "Str0ng-Passw0rd!", full_name: "Typed Client", role: "organizer" },
  });
  check(signup.data !== undefined, `signup failed: ${JSON.stringify(signup.error)}`);
  const startedAt: string | null = signup.data.user.subscription.started_at;
  check(startedAt === null, "a new organizer has no subscription start");
  const organizer = clientFor(signup.data.access);

  // 2. Subscribe (manual provider: activates without Stripe).
  const subscription = await organizer.POST("/api/v1/subscription/start", {
    body: { plan: "monthly" },
  });
  check(subscription.data !== undefined, `subscribe failed: ${JSON.stringify(subscription.error)}`);
  check(subscription.data.status === "active", `subscription is ${subscription.data.status}`);
  const started = subscription.data.started_at;
  check(started !== null && new Date(started).getFullYear() > 2000, "started_at is a real date");

  // 3. Browse templates and vendors.
  const templates = await organizer.GET("/api/v1/templates", { params: { query: { page: 1 } } });
  check(templates.data !== undefined, "templates");
  const template = templates.data.results[0];
  check(template !== undefined, "a template is seeded");
  const vendors = await organizer.GET("/api/v1/vendors", {});
  check(vendors.data !== undefined, "vendors");
  const vendorId = env("VENDOR_ID");
  const vendor = vendors.data.results.find((v) => v.id === vendorId);
  check(vendor !== undefined, "the seeded vendor is listed");
  const photos: string[] = vendor.photo_keys;
  console.log(`  vendor ${vendor.business_name} (${vendor.vendor_type}), ${photos.length} photos`);

  // 4. Create and submit a booking (notes left out: optional).
  const created = await organizer.POST("/api/v1/bookings", {
    body: {
      title: "Typed launch party",
      event_date: futureDate(90),
      guest_count: 80,
      template_id: template.id,
      vendors: [{ vendor_id: vendor.id, proposed_price_cents: 250_000 }],
    },
  });
  check(created.data !== undefined, `booking create: ${JSON.stringify(created.error)}`);
  const bookingId = created.data.id;
  const line = created.data.vendors[0];
  check(line !== undefined, "the booking has its vendor line");
  const submitted = await organizer.POST("/api/v1/bookings/{id}/submit", {
    params: { path: { id: bookingId } },
  });
  check(submitted.data !== undefined, `submit: ${JSON.stringify(submitted.error)}`);
  check(submitted.data.status === "awaiting_vendor_approval", `submitted: ${submitted.data.status}`);

  // 5. The vendor signs in and approves its line (no `notes`: optional).
  const login = await anonymous.POST("/api/v1/auth/login", {
    body: { email: env("VENDOR_EMAIL"), password: env("VENDOR_PASSWORD") },
  });
  check(login.data !== undefined, `vendor login: ${JSON.stringify(login.error)}`);
  const vendorClient = clientFor(login.data.access);
  const approved = await vendorClient.POST("/api/v1/bookings/{id}/vendors/{bv_id}/approve", {
    params: { path: { id: bookingId, bv_id: line.id } },
  });
  check(approved.data !== undefined, `approve: ${JSON.stringify(approved.error)}`);

  // 6. Read it back as the organizer.
  const readBack = await organizer.GET("/api/v1/bookings/{id}", {
    params: { path: { id: bookingId } },
  });
  check(readBack.data !== undefined, "read back");
  check(readBack.data.status === "ready_for_payment", `read back: ${readBack.data.status}`);
  const agreed = readBack.data.vendors[0]?.agreed_price_cents ?? null;
  check(agreed === 250_000, `agreed price ${String(agreed)}`);
  console.log(`  booking ${bookingId}: ${readBack.data.status}, deposit ${readBack.data.deposit_cents}`);

  // 7. Three wrong calls, each answered in the envelope with a code of the enum.
  const missing = await organizer.GET("/api/v1/bookings/{id}", {
    params: { path: { id: "00000000-0000-4000-8000-000000000000" } },
  });
  expectError(missing.error, "not_found", 404, missing.response.status);

  const invalid = await organizer.POST("/api/v1/bookings", {
    body: { title: "Nobody", event_date: futureDate(90), guest_count: 0, vendors: [] },
  });
  expectError(invalid.error, "validation_error", 400, invalid.response.status);
  const fieldErrors = invalid.error?.error.details["guest_count"];
  check(Array.isArray(fieldErrors), "validation details are lists of messages");

  const again = await vendorClient.POST("/api/v1/bookings/{id}/vendors/{bv_id}/approve", {
    params: { path: { id: bookingId, bv_id: line.id } },
  });
  expectError(again.error, "invalid_transition", 409, again.response.status);

  // Every call above (12) answered JSON that matched its declared schema.
  check(validator.validated() === 12, `validated: ${validator.seen().join(", ")}`);
  console.log(`journey ok: ${validator.validated()} responses matched their schema`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
