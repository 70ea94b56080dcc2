//! [`Credentials`] in memory.

use super::MemoryUnit;
use crate::domain::login::{Credential, Throttle, ThrottleKey};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::ports::store::Credentials;
use async_trait::async_trait;

#[async_trait]
impl Credentials for MemoryUnit {
    async fn credential(&mut self, email: &str) -> Result<Option<Credential>> {
        Ok(self.s().credentials.get(&email.trim().to_lowercase()).cloned())
    }

    async fn credential_of(&mut self, user: UserId) -> Result<Option<Credential>> {
        let s = self.s();
        Ok(s.credential_emails
            .get(&user)
            .and_then(|email| s.credentials.get(email))
            .cloned())
    }

    async fn set_credential(&mut self, credential: &Credential) -> Result<()> {
        let email = credential.email.trim().to_lowercase();
        if self
            .s()
            .credentials
            .get(&email)
            .is_some_and(|c| c.user != credential.user)
        {
            return Err(Error::conflict("another user logs in with that e-mail"));
        }
        if let Some(old) = self.s().credential_emails.get(&credential.user).cloned()
            && old != email
        {
            self.remove::<_, Credential, _>(|s| &mut s.credentials, old);
        }
        let stored = Credential {
            email: email.clone(),
            ..credential.clone()
        };
        self.set(|s| &mut s.credentials, email.clone(), stored);
        self.set(|s| &mut s.credential_emails, credential.user, email);
        Ok(())
    }

    async fn throttle(&mut self, key: &ThrottleKey) -> Result<Option<Throttle>> {
        Ok(self.s().throttles.get(key).copied())
    }

    async fn set_throttle(&mut self, key: &ThrottleKey, throttle: Option<&Throttle>) -> Result<()> {
        match throttle {
            Some(t) => self.set(|s| &mut s.throttles, key.clone(), *t),
            None => {
                self.remove::<_, Throttle, _>(|s| &mut s.throttles, key.clone());
            }
        }
        Ok(())
    }
}
