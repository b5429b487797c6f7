//! Objects whose fields come from more than one module, without the owner importing them.
//!
//! The order's GraphQL object is the case in point: the order module defines what the order
//! itself knows (its core object), and each stage adds fields from its own GraphQL module
//! (a *part*: an ordinary `#[Object]` built from the core). The list of parts is written where
//! the schema is assembled, above every module that contributes one (the [`Extensible`] impl),
//! so the owner stays beneath the stages. To the schema it is one object: its fields are the
//! core's, with each part's inserted where the part asks (so moving a field into a part does
//! not reorder the SDL), and a field is resolved by the core or else by the part that has it —
//! what async-graphql's `MergedObject` does for a list known to the owner.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ObjectType, OutputType, Positioned, ServerResult,
    Value,
};
use futures_util::future::BoxFuture;

/// A core object that other modules extend.
pub trait Extensible: ObjectType + Sized + 'static {
    /// The object's name in the schema (the core's own name is internal and never appears).
    const NAME: &'static str;
    /// The object's description in the schema.
    const DESCRIPTION: Option<&'static str> = None;
    /// The parts, in the order their fields are placed.
    fn parts() -> &'static [Part<Self>];
}

/// Resolves a field of a part, or answers `None` when the part has no such field.
type Resolve<C> =
    for<'a> fn(&'a Arc<C>, &'a Context<'a>) -> BoxFuture<'a, ServerResult<Option<Value>>>;

/// Fields added to `C` by another module: its own object `P`, made from (a share of) the core
/// when one of its fields is asked for.
pub struct Part<C> {
    after: Option<&'static str>,
    register: fn(&mut Registry) -> MetaType,
    resolve: Resolve<C>,
}

impl<C: Send + Sync + 'static> Part<C> {
    /// `P`'s fields, placed after the core's (and earlier parts').
    pub const fn of<P>() -> Self
    where
        P: ObjectType + From<Arc<C>> + 'static,
    {
        Self {
            after: None,
            register: register::<P>,
            resolve: resolve::<C, P>,
        }
    }

    /// `P`'s fields, placed after the field named `field` (its GraphQL name).
    pub const fn after<P>(field: &'static str) -> Self
    where
        P: ObjectType + From<Arc<C>> + 'static,
    {
        Self {
            after: Some(field),
            register: register::<P>,
            resolve: resolve::<C, P>,
        }
    }
}

fn register<P: OutputType>(registry: &mut Registry) -> MetaType {
    registry.create_fake_output_type::<P>()
}

fn resolve<'a, C, P>(
    core: &'a Arc<C>,
    ctx: &'a Context<'a>,
) -> BoxFuture<'a, ServerResult<Option<Value>>>
where
    P: ObjectType + From<Arc<C>> + 'static,
    C: Send + Sync + 'static,
{
    let part = P::from(Arc::clone(core));
    Box::pin(async move { part.resolve_field(ctx).await })
}

/// The core with its parts: the object the schema sees.
#[derive(Clone, Debug)]
pub struct Extended<C>(Arc<C>);

impl<C> Extended<C> {
    pub fn new(core: C) -> Self {
        Self(Arc::new(core))
    }
}

impl<C> Deref for Extended<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0
    }
}

impl<C: Extensible> ContainerType for Extended<C> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        if let Some(value) = self.0.resolve_field(ctx).await? {
            return Ok(Some(value));
        }
        for part in C::parts() {
            if let Some(value) = (part.resolve)(&self.0, ctx).await? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

impl<C: Extensible> OutputType for Extended<C> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(C::NAME)
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let MetaType::Object {
                mut fields,
                cache_control,
                ..
            } = registry.create_fake_output_type::<C>()
            else {
                unreachable!("an ObjectType registers an object")
            };
            for part in C::parts() {
                let MetaType::Object { fields: added, .. } = (part.register)(registry) else {
                    unreachable!("an ObjectType registers an object")
                };
                let at = match part.after {
                    Some(name) => {
                        fields.get_index_of(name).unwrap_or_else(|| {
                            panic!("{}: no field {name} to place a part after", C::NAME)
                        }) + 1
                    }
                    None => fields.len(),
                };
                for (offset, (name, field)) in added.into_iter().enumerate() {
                    assert!(
                        !fields.contains_key(&name),
                        "{}: field {name} defined twice",
                        C::NAME
                    );
                    fields.shift_insert(at + offset, name, field);
                }
            }
            MetaType::Object {
                name: C::NAME.to_owned(),
                description: C::DESCRIPTION.map(str::to_owned),
                fields,
                cache_control,
                extends: false,
                shareable: false,
                resolvable: true,
                keys: None,
                visible: None,
                inaccessible: false,
                interface_object: false,
                tags: Vec::new(),
                is_subscription: false,
                rust_typename: Some(std::any::type_name::<Self>()),
                directive_invocations: Vec::new(),
                requires_scopes: Vec::new(),
            }
        })
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl<C: Extensible> ObjectType for Extended<C> {}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
    use serde_json::json;

    use super::*;

    #[derive(SimpleObject)]
    #[graphql(name = "ThingFields")]
    struct ThingFields {
        a: i32,
        c: i32,
    }

    struct BPart(Arc<ThingFields>);

    impl From<Arc<ThingFields>> for BPart {
        fn from(core: Arc<ThingFields>) -> Self {
            Self(core)
        }
    }

    #[Object]
    impl BPart {
        async fn b(&self) -> i32 {
            self.0.a + 1
        }
    }

    struct DPart(Arc<ThingFields>);

    impl From<Arc<ThingFields>> for DPart {
        fn from(core: Arc<ThingFields>) -> Self {
            Self(core)
        }
    }

    #[Object]
    impl DPart {
        async fn d(&self) -> i32 {
            self.0.c * 2
        }
    }

    impl Extensible for ThingFields {
        const NAME: &'static str = "Thing";

        fn parts() -> &'static [Part<Self>] {
            const PARTS: &[Part<ThingFields>] = &[Part::of::<DPart>(), Part::after::<BPart>("a")];
            PARTS
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn thing(&self) -> Extended<ThingFields> {
            Extended::new(ThingFields { a: 1, c: 3 })
        }
    }

    #[tokio::test]
    async fn parts_are_placed_where_they_ask_and_resolve_their_fields() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let sdl = schema.sdl();
        assert!(
            sdl.contains("type Thing {\n\ta: Int!\n\tb: Int!\n\tc: Int!\n\td: Int!\n}"),
            "{sdl}"
        );
        for internal in ["ThingFields", "BPart", "DPart"] {
            assert!(!sdl.contains(internal), "{internal} leaked: {sdl}");
        }
        let res = schema.execute("{ thing { __typename d c b a } }").await;
        assert!(res.errors.is_empty(), "{:?}", res.errors);
        assert_eq!(
            res.data.into_json().unwrap(),
            json!({ "thing": { "__typename": "Thing", "d": 6, "c": 3, "b": 2, "a": 1 } })
        );
        let res = schema.execute("{ thing { e } }").await;
        assert_eq!(res.errors.len(), 1, "an unknown field is refused");
    }
}
