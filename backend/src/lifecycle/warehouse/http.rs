//! `GET /shipments/{id}/packing-slip.pdf`: a parcel's packing slip, for a bearer token or API
//! key that may read orders.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::http::{caller, refuse};
use crate::error::{AppError, Fail};
use crate::state::AppState;
use crate::tenancy::Permission;

pub async fn packing_slip(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let principal = match caller(&state, &req, Permission::OrdersRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Ok(id) = uuid::Uuid::try_parse(&path.into_inner()) else {
        return refuse(AppError::NotFound("label"));
    };
    match super::service::packing_slip(&state, &principal, id).await {
        Ok(Some((name, pdf))) => HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"packing-slip-{name}.pdf\""),
            ))
            .body(pdf),
        Ok(None) => refuse(AppError::NotFound("shipment")),
        Err(Fail::App(err)) => refuse(err),
        Err(Fail::User(e)) => refuse(AppError::Forbidden(e.message)),
    }
}
