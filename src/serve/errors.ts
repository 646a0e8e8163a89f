// Errors the server answers with, in OpenAI's shape {error: {message, type, param, code}}, so that
// OpenAI clients raise their usual exceptions (BadRequestError, AuthenticationError, NotFoundError, …).

/** The body of every error response. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error with its HTTP status and OpenAI fields; `headers` go on the response (Retry-After). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request is malformed or asks for something the model cannot do. */
export const badRequest = (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, message, "invalid_request_error", code, param);

/** 401: keys are configured and the request has none, or a wrong one. */
export const unauthorized = (message: string) => new ApiError(401, message, "invalid_request_error", "invalid_api_key");

/** 404: no such model (or route). */
export const notFound = (message: string, param: string | null = null, code = "model_not_found") => new ApiError(404, message, "invalid_request_error", code, param);

/** 429: the queue is full; Retry-After says when to come back (whole seconds, at least 1). */
export const overloaded = (message: string, retryAfterSeconds: number) =>
  new ApiError(429, message, "rate_limit_error", "rate_limit_exceeded", null, { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) });

/** 504: the request did not finish within --timeout-ms. */
export const timedOut = (ms: number) => new ApiError(504, `the request did not finish within ${ms} ms (--timeout-ms); retry, or ask for less work (fewer rows or max_tokens)`, "timeout_error", "timeout");
