//! Tenants (global table).

use chrono::Utc;
use entity::tenants;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::{Currency, TenantId};
use crate::tenancy::AnyTx;

pub async fn create(
    tx: &impl AnyTx,
    id: TenantId,
    name: &str,
    currency: Currency,
) -> Result<tenants::Model, DbErr> {
    let model = tenants::ActiveModel {
        id: Set(id.uuid()),
        name: Set(name.to_owned()),
        currency: Set(currency.code().to_owned()),
        slug: Set(Some(free_slug(tx, name).await?)),
        timezone: Set("UTC".to_owned()),
        created_at: Set(Utc::now()),
    };
    tenants::Entity::insert(model)
        .exec_with_returning(tx.conn())
        .await
}

/// `Demo Shop!` → `demo-shop`; ASCII letters and digits, the rest collapsed to dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug
        .trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>();
    if slug.is_empty() {
        "shop".to_owned()
    } else {
        slug
    }
}

/// The slug of `name`, with a number added when another tenant has it.
async fn free_slug(tx: &impl AnyTx, name: &str) -> Result<String, DbErr> {
    let base = slugify(name);
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if by_slug(tx, &candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(format!("{base}-{}", uuid::Uuid::now_v7().simple()))
}

pub async fn by_slug(tx: &impl AnyTx, slug: &str) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(tx.conn())
        .await
}

pub async fn get(tx: &impl AnyTx, id: TenantId) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id.uuid()).one(tx.conn()).await
}

pub async fn get_many(tx: &impl AnyTx, ids: &[TenantId]) -> Result<Vec<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(tx.conn())
        .await
}

/// Every tenant id, for sweeps that visit each tenant in its own scoped transaction.
pub async fn all_ids(tx: &impl AnyTx) -> Result<Vec<TenantId>, DbErr> {
    Ok(tenants::Entity::find()
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|t| TenantId(t.id))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_short_lowercase_and_dashed() {
        assert_eq!(super::slugify("Demo Shop"), "demo-shop");
        assert_eq!(
            super::slugify("  Émile's  Bakery & Co.  "),
            "mile-s-bakery-co"
        );
        assert_eq!(super::slugify("!!!"), "shop");
    }
}
