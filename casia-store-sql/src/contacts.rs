//! The contact directory port: the e-mail address an authorization's
//! notifications go to (DOMAIN.md §9).

use async_trait::async_trait;

use casia_core::StoreError;
use casia_core::ids::AuthorizationId;
use casia_core::ports::ContactDirectory;

use crate::SqlStore;
use crate::columns::{Statement, insert};
use crate::rows::ContactRow;
use crate::sql;

#[async_trait]
impl ContactDirectory for SqlStore {
    async fn contact(&self, authorization: &AuthorizationId) -> Result<Option<String>, StoreError> {
        self.engine
            .reader()
            .await?
            .optional(Statement::new(sql::GET_CONTACT).bind(authorization.as_str().to_owned()))
            .await
    }

    async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError> {
        let mut upsert = insert([ContactRow {
            authorization_id: authorization.as_str().to_owned(),
            email: email.to_owned(),
        }]);
        upsert.push(sql::SET_CONTACT_TAIL);
        self.engine.writer().await?.execute(upsert).await?;
        Ok(())
    }
}
