//! The clients and users the server knows: the ones configured at start, and the clients
//! registered at run time (RFC 7591) up to a cap. Client and user authentication.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::config::Client;
use crate::user::User;
use crate::util::ct_eq;

/// How dynamic client registration is configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegistrationOptions {
    /// Serve `POST /register` and advertise it.
    pub(crate) enabled: bool,
    /// How many clients may be registered at run time.
    pub(crate) max: usize,
}

impl Default for RegistrationOptions {
    fn default() -> Self {
        RegistrationOptions {
            enabled: false,
            max: 1000,
        }
    }
}

/// Registration is closed: the cap is reached.
pub(crate) struct Full;

/// Clients (configured and registered) and users.
pub(crate) struct Registry {
    clients: RwLock<HashMap<String, Arc<Client>>>,
    /// Ids of the clients registered at run time, oldest first.
    registered: RwLock<Vec<String>>,
    users: RwLock<HashMap<String, Arc<User>>>,
    pub(crate) registration: RegistrationOptions,
    /// The scopes of the configured clients (`scopes_supported`); registered clients may
    /// ask for these only.
    scopes_supported: Vec<String>,
    /// Whether some configured client is public.
    any_public: bool,
}

impl Registry {
    pub(crate) fn new(
        clients: Vec<Client>,
        users: Vec<User>,
        registration: RegistrationOptions,
    ) -> Self {
        let mut scopes: Vec<String> = clients
            .iter()
            .flat_map(|c| c.scopes.iter().cloned())
            .collect();
        scopes.sort();
        scopes.dedup();
        let any_public = clients.iter().any(|c| c.public);
        Registry {
            clients: RwLock::new(
                clients
                    .into_iter()
                    .map(|c| (c.id.clone(), Arc::new(c)))
                    .collect(),
            ),
            registered: RwLock::new(Vec::new()),
            users: RwLock::new(
                users
                    .into_iter()
                    .map(|u| (u.username.clone(), Arc::new(u)))
                    .collect(),
            ),
            registration,
            scopes_supported: scopes,
            any_public,
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Client>> {
        read(&self.clients).get(id).cloned()
    }

    /// Authenticates a confidential client by id and secret in constant time. A public
    /// client has no secret and never passes.
    pub(crate) fn check_client(&self, id: &str, secret: &str) -> Option<Arc<Client>> {
        match self.get(id) {
            Some(c) if !c.public && ct_eq(&c.secret, secret) => Some(c),
            Some(_) => None,
            None => {
                // Same work for unknown clients.
                let _ = ct_eq("unknown-client-dummy-secret", secret);
                None
            }
        }
    }

    /// The public client `id`, which authenticates with its id alone.
    pub(crate) fn public_client(&self, id: &str) -> Option<Arc<Client>> {
        self.get(id).filter(|c| c.public)
    }

    pub(crate) fn check_user(&self, username: &str, password: &str) -> bool {
        match self.user(username) {
            Some(u) => ct_eq(&u.password, password),
            None => {
                let _ = ct_eq("unknown-user-dummy-password", password);
                false
            }
        }
    }

    /// The user `username`.
    pub(crate) fn user(&self, username: &str) -> Option<Arc<User>> {
        read(&self.users).get(username).cloned()
    }

    /// Adds a user, replacing one of the same name.
    pub(crate) fn add_user(&self, user: User) {
        write(&self.users).insert(user.username.clone(), Arc::new(user));
    }

    /// The names of the users' claims and their `acr` values, each sorted without repeats
    /// (`claims_supported`, `acr_values_supported`).
    pub(crate) fn user_claims_and_acrs(&self) -> (Vec<String>, Vec<String>) {
        let users = read(&self.users);
        let mut claims: Vec<String> = users
            .values()
            .flat_map(|u| u.claims.keys().cloned())
            .collect();
        let mut acrs: Vec<String> = users
            .values()
            .flat_map(|u| u.acr_values.iter().cloned())
            .collect();
        for list in [&mut claims, &mut acrs] {
            list.sort();
            list.dedup();
        }
        (claims, acrs)
    }

    pub(crate) fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }

    /// The token endpoint's client authentication methods.
    pub(crate) fn token_auth_methods(&self) -> Vec<&'static str> {
        let mut methods = vec!["client_secret_basic", "client_secret_post"];
        if self.any_public || self.registration.enabled {
            methods.push("none");
        }
        methods
    }

    /// Adds a client registered at run time, unless the cap is reached.
    pub(crate) fn register(&self, client: Client) -> Result<(), Full> {
        let mut registered = write(&self.registered);
        if registered.len() >= self.registration.max {
            return Err(Full);
        }
        registered.push(client.id.clone());
        write(&self.clients).insert(client.id.clone(), Arc::new(client));
        Ok(())
    }

    /// The clients registered at run time, oldest first.
    pub(crate) fn registered(&self) -> Vec<Client> {
        let registered = read(&self.registered);
        let clients = read(&self.clients);
        registered
            .iter()
            .filter_map(|id| clients.get(id).map(|c| Client::clone(c)))
            .collect()
    }
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}
