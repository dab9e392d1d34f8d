//! The contact directory's rules (DOMAIN.md §9: notifications go to "the
//! contact address of the authorization (the principal user's registered
//! address)"): only the system manages the directory, and an address is a
//! plain `local@domain` mailbox of at most 254 characters.

use std::str::FromStr;

use crate::actor::Actor;
use crate::error::{CasiaError, ServiceError};
use crate::ids::AuthorizationId;
use crate::ports::ContactDirectory;

/// The longest address SMTP carries (RFC 5321 §4.5.3.1.3: a path of 256
/// octets including the angle brackets).
pub const MAX_ADDRESS_LEN: usize = 254;

/// A contact address: `local@domain` (RFC 5322 addr-spec, no display name,
/// no comments), trimmed, at most [`MAX_ADDRESS_LEN`] octets (UTF-8 bytes,
/// as SMTP counts them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactAddress(String);

impl ContactAddress {
    /// Parses an address as given by an operator or an API client.
    ///
    /// # Errors
    ///
    /// `invalid_field` naming `email` when it is empty, too long, or not a
    /// bare `local@domain` mailbox.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use casia_core::contact::ContactAddress;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let address = ContactAddress::parse("  gestoria@example.es ")?;
    /// assert_eq!(address.as_str(), "gestoria@example.es");
    ///
    /// // A display name is not an address.
    /// let err = ContactAddress::parse("Gestoría <gestoria@example.es>")
    ///     .expect_err("a display name is not an address");
    /// assert_eq!(err.field(), Some("email"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn parse(raw: &str) -> Result<ContactAddress, CasiaError> {
        let text = raw.trim();
        let invalid = || CasiaError::invalid_field("email");
        if text.is_empty() || text.len() > MAX_ADDRESS_LEN {
            return Err(invalid());
        }
        let parsed = email_address::EmailAddress::from_str(text).map_err(|_| invalid())?;
        // A display name (`Ana <a@example.es>`) parses too; only the bare
        // mailbox is an address.
        if parsed.display_part() != "" || parsed.email() != text {
            return Err(invalid());
        }
        Ok(ContactAddress(text.to_owned()))
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContactAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Only the system actor reads or changes the directory; anyone else is
/// `forbidden` (the directory is operator data, not a case).
///
/// # Errors
/// `forbidden` for users and processors.
pub fn check_directory_access(actor: &Actor) -> Result<(), CasiaError> {
    match actor {
        Actor::System => Ok(()),
        _ => Err(CasiaError::Forbidden),
    }
}

/// Records (or replaces) the address of `authorization` for `actor`.
///
/// # Errors
/// `forbidden` ([`check_directory_access`]), `invalid_field` `email`
/// ([`ContactAddress::parse`]), or the directory's failure.
pub async fn set_contact(
    directory: &dyn ContactDirectory,
    actor: &Actor,
    authorization: &AuthorizationId,
    raw: &str,
) -> Result<ContactAddress, ServiceError> {
    check_directory_access(actor)?;
    let address = ContactAddress::parse(raw)?;
    directory
        .set_contact(authorization, address.as_str())
        .await?;
    Ok(address)
}

/// The address of `authorization`, for `actor`.
///
/// # Errors
/// `forbidden` ([`check_directory_access`]), `not_found` when none is
/// recorded, or the directory's failure.
pub async fn get_contact(
    directory: &dyn ContactDirectory,
    actor: &Actor,
    authorization: &AuthorizationId,
) -> Result<String, ServiceError> {
    check_directory_access(actor)?;
    Ok(directory
        .contact(authorization)
        .await?
        .ok_or(CasiaError::NotFound)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_bare_mailboxes() {
        assert_eq!(
            ContactAddress::parse("  gestoria@example.com ").map(|a| a.to_string()),
            Ok("gestoria@example.com".to_owned())
        );
        assert!(ContactAddress::parse("nombre.apellido+casia@sub.example.es").is_ok());
        for bad in [
            "",
            "gestoria",
            "a@b@c",
            "nombre <a@example.com>",
            "a @example.com",
            "@example.com",
            "a@",
        ] {
            assert_eq!(
                ContactAddress::parse(bad).map_err(|e| e.field().map(str::to_owned)),
                Err(Some("email".to_owned())),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "x".repeat(250));
        assert!(ContactAddress::parse(&long).is_err());
    }

    #[test]
    fn only_the_system_manages_the_directory() {
        assert_eq!(check_directory_access(&Actor::System), Ok(()));
        let user = Actor::User {
            authorization: AuthorizationId::parse("A1").expect("id"),
            user: crate::ids::UserId::parse("u1").expect("id"),
            province: crate::ids::ProvinceCode::parse("28").expect("province"),
        };
        assert_eq!(check_directory_access(&user), Err(CasiaError::Forbidden));
    }
}
