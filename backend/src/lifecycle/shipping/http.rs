//! `GET /shipments/{id}/label.pdf` and `…/label.zpl`: a parcel's label, for a bearer token or
//! API key that may read orders (its packing slip is the warehouse's: `warehouse/http.rs`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::repo;
use crate::auth::http::{caller, refuse};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{Permission, TenantTx};

pub async fn label(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, format) = path.into_inner();
    let principal = match caller(&state, &req, Permission::OrdersRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Ok(id) = uuid::Uuid::try_parse(&id) else {
        return refuse(AppError::NotFound("label"));
    };
    let found = async {
        let tx = TenantTx::begin(&state.db, principal.tenant).await?;
        let label = repo::label(&tx, id).await?;
        let shipment = repo::shipment(&tx, id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(label.zip(shipment))
    }
    .await;
    let (label, shipment) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return refuse(AppError::NotFound("label")),
        Err(err) => return refuse(err),
    };
    let name = shipment.tracking_number.unwrap_or_else(|| id.to_string());
    match format.as_str() {
        // The label file as the carrier made it: a PDF, or the image a remote carrier sent.
        "label.pdf" if !label.pdf.is_empty() => {
            let extension = match label.media_type.as_str() {
                "image/png" => "png",
                "application/pdf" => "pdf",
                _ => "bin",
            };
            HttpResponse::Ok()
                .content_type(label.media_type.as_str())
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{name}.{extension}\""),
                ))
                .body(label.pdf)
        }
        "label.zpl" if !label.zpl.is_empty() => HttpResponse::Ok()
            .content_type("application/zpl; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.zpl\""),
            ))
            .body(label.zpl),
        _ => refuse(AppError::NotFound("label")),
    }
}
