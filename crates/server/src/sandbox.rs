//! The sandbox tool's API: a small fake HR system that Plugboard serves itself, so that the
//! whole loop (connect the sandbox, then read it through passthrough) works in `serve --demo`,
//! in the README's first steps and in tests, with no vendor account.
//!
//! It is served at `/sandbox/v1` (and called in process by passthrough). Requests need
//! `Authorization: Bearer <the integration's API key>`; as in the sandbox's connection flow,
//! the key decides: `invalid` is refused (401), `missing_scope` forbidden (403),
//! `rate_limited` limited (429 with `Retry-After: 1`), any other key works. The data is the
//! same for every key and never changes. Routes (documented in `docs/passthrough.md`):
//!
//! - `GET /employees?limit=&offset=`: a page of employees, `{"data": [...], "next_offset"}`
//! - `GET /employees/{id}`: one employee, or 404
//! - `GET /absences`: every absence
//! - `GET /documents/{id}`: an employee's contract as a PDF (binary)
//! - `/echo` (any method): what it received: method, query, content type and body

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, Query, Request},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::passthrough::ReadError;

/// The sandbox tool's catalog id.
pub const TOOL: &str = "sandbox";

/// Where the API is served.
pub const PREFIX: &str = "/sandbox/v1";

/// The routes, under [`PREFIX`].
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(&format!("{PREFIX}/employees"), get(employees))
        .route(&format!("{PREFIX}/employees/{{id}}"), get(employee))
        .route(&format!("{PREFIX}/absences"), get(absences))
        .route(&format!("{PREFIX}/documents/{{id}}"), get(document))
        .route(&format!("{PREFIX}/echo"), any(echo))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(authenticate))
}

/// Answers `request` in process, reading at most `limit` bytes of the answer.
pub async fn call(
    request: reqwest::Request,
    limit: usize,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), ReadError> {
    let request: axum::http::Request<reqwest::Body> = request
        .try_into()
        .map_err(|e: reqwest::Error| ReadError::Broken(e.to_string()))?;
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::new(body));
    let response = router::<()>()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ReadError::TooLarge)?;
    Ok((parts.status, parts.headers, bytes.to_vec()))
}

async fn authenticate(request: Request, next: axum::middleware::Next) -> Response {
    let key = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    match key {
        "" | "invalid" => error(StatusCode::UNAUTHORIZED, "invalid API key"),
        "missing_scope" => error(StatusCode::FORBIDDEN, "the API key lacks this permission"),
        "rate_limited" => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "slow down");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, "1".parse().expect("a header value"));
            response
        }
        _ => next.run(request).await,
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such resource in the sandbox API")
}

/// The sandbox company's employees.
fn all_employees() -> Vec<Value> {
    [
        (1, "Ada", "Lovelace", "Engineering", "2021-03-01"),
        (2, "Grace", "Hopper", "Engineering", "2020-09-15"),
        (3, "Katherine", "Johnson", "Research", "2022-01-10"),
        (4, "Alan", "Turing", "Research", "2019-06-23"),
        (5, "Hedy", "Lamarr", "Product", "2023-11-06"),
    ]
    .into_iter()
    .map(|(id, first, last, department, start)| {
        json!({
            "id": id,
            "first_name": first,
            "last_name": last,
            "email": format!("{}@sandbox.example", first.to_ascii_lowercase()),
            "department": department,
            "start_date": start,
            "employment_status": "active",
        })
    })
    .collect()
}

#[derive(Deserialize)]
struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn employees(Query(page): Query<Page>) -> Json<Value> {
    let all = all_employees();
    let offset = page.offset.unwrap_or(0).min(all.len());
    let limit = page.limit.unwrap_or(100).clamp(1, 100);
    let end = (offset + limit).min(all.len());
    let next = (end < all.len()).then_some(end);
    Json(json!({ "data": &all[offset..end], "next_offset": next }))
}

async fn employee(Path(id): Path<String>) -> Response {
    match all_employees()
        .into_iter()
        .find(|e| e["id"].as_u64().is_some_and(|n| n.to_string() == id))
    {
        Some(employee) => Json(employee).into_response(),
        None => error(StatusCode::NOT_FOUND, "no employee with this id"),
    }
}

async fn absences() -> Json<Value> {
    Json(json!({ "data": [
        { "id": 101, "employee_id": 1, "type": "vacation", "start_date": "2026-12-21", "end_date": "2026-12-31", "status": "approved" },
        { "id": 102, "employee_id": 3, "type": "sick_leave", "start_date": "2026-11-02", "end_date": "2026-11-04", "status": "approved" },
        { "id": 103, "employee_id": 5, "type": "parental_leave", "start_date": "2027-02-01", "end_date": "2027-05-31", "status": "requested" },
    ]}))
}

async fn document(Path(id): Path<String>) -> Response {
    if !all_employees()
        .iter()
        .any(|e| e["id"].as_u64().is_some_and(|n| n.to_string() == id))
    {
        return error(StatusCode::NOT_FOUND, "no document with this id");
    }
    (
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"contract.pdf\"",
            ),
        ],
        contract_pdf(&id),
    )
        .into_response()
}

/// A minimal, valid one-page PDF naming the employee.
fn contract_pdf(id: &str) -> Vec<u8> {
    let text = format!("BT /F1 18 Tf 72 720 Td (Employment contract of employee {id}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "at most 1 MiB"),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = if content_type.starts_with("application/json") {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut headers: Vec<&str> = parts
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| *name != "authorization")
        .collect();
    headers.sort_unstable();
    Json(json!({
        "method": parts.method.as_str(),
        "query": parts.uri.query().unwrap_or_default(),
        "content_type": content_type,
        "headers": headers,
        "body": body,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_is_a_pdf() {
        let pdf = contract_pdf("1");
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }
}
