//! [`AuthLayer`]: what every request of the wrapped service is checked with.

use std::sync::Arc;

use tower_layer::Layer;

use super::config::Config;
use super::constraint::SenderConstraint;
use super::service::Auth;
use crate::bearer::AuthScheme;
use crate::dpop::{DpopConfig, DpopVerifier};
use crate::error::{Challenge, DefaultErrorHandler};
use crate::mtls::MtlsConfig;
use crate::source::TokenSources;
use crate::validator::Validator;
use crate::validator::{Readiness, ReadinessService};
use crate::BuildError;

/// Requires a valid bearer token on every request of the wrapped service.
///
/// Tokens bound to a key with `cnf.jkt` (DPoP, RFC 9449) are refused unless DPoP is turned on
/// with [`AuthLayer::dpop`], and tokens bound to a client certificate with `cnf.x5t#S256`
/// (RFC 8705) unless certificate binding is turned on with [`AuthLayer::mtls`].
#[derive(Debug)]
pub struct AuthLayer<V, H = DefaultErrorHandler> {
    validator: Arc<V>,
    handler: H,
    challenge: Challenge,
    optional: bool,
    dpop: Option<Arc<DpopVerifier>>,
    mtls: Option<Arc<MtlsConfig>>,
    sources: TokenSources,
    required: Option<SenderConstraint>,
    allow_preflight: bool,
}

impl<V, H: Clone> Clone for AuthLayer<V, H> {
    fn clone(&self) -> Self {
        AuthLayer {
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            optional: self.optional,
            dpop: self.dpop.clone(),
            mtls: self.mtls.clone(),
            sources: self.sources.clone(),
            required: self.required,
            allow_preflight: self.allow_preflight,
        }
    }
}

impl<V: Validator> AuthLayer<V> {
    /// A layer that validates tokens with `validator` and answers failures with
    /// [`DefaultErrorHandler`].
    pub fn new(validator: V) -> Self {
        Self::from_arc(Arc::new(validator))
    }

    /// Like [`AuthLayer::new`], sharing a validator that is already in an `Arc`.
    pub fn from_arc(validator: Arc<V>) -> Self {
        AuthLayer {
            validator,
            handler: DefaultErrorHandler,
            challenge: Challenge::new(),
            optional: false,
            dpop: None,
            mtls: None,
            sources: TokenSources::new(),
            required: None,
            allow_preflight: false,
        }
    }
}

impl<V: Validator, H> AuthLayer<V, H> {
    /// Lets requests without an `Authorization` header through anonymously (no [`Claims`](crate::Claims) in
    /// their extensions, an [`Anonymous`](super::Anonymous) marker instead). A request that does carry a token
    /// must still carry a valid one.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Sets the `realm` of the `WWW-Authenticate` challenge.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.challenge = self.challenge.realm(realm);
        self
    }

    /// Sets the challenge parameters (realm, RFC 9728 `resource_metadata`).
    pub fn challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = challenge;
        self
    }

    /// Accepts DPoP-bound tokens (RFC 9449): the `DPoP` authorization scheme next to `Bearer`,
    /// and a `DPoP` proof required and checked for every token bound with `cnf.jkt` or
    /// presented with the `DPoP` scheme. See the [`dpop`](crate::dpop) module for the rules.
    ///
    /// The validator checks the token as before; the layer checks the proof afterwards, against
    /// the request's method, URI and headers. Challenges then name the accepted proof
    /// algorithms (`algs`), and requests without credentials are offered both schemes.
    ///
    /// # Errors
    ///
    /// [`BuildError::Invalid`](crate::BuildError::Invalid) when `config` has neither
    /// [`base_url`](DpopConfig::base_url) nor [`allowed_hosts`](DpopConfig::allowed_hosts)
    /// (the URI a proof must name would then come from the client's `Host` header alone), an
    /// `allowed_hosts` entry is not a plain `host[:port]`, or the
    /// [nonce secret](DpopConfig::nonce_secret) is shorter than 32 bytes.
    ///
    /// ```
    /// use bearer_guard::{AuthLayer, dpop::DpopConfig, Validator, validator::ValidationFuture, error::TokenError};
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> ValidationFuture { ValidationFuture::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// # fn main() -> Result<(), bearer_guard::BuildError> {
    /// let base = url::Url::parse("https://api.example").unwrap();
    /// let layer = AuthLayer::new(Never).dpop(DpopConfig::new().base_url(base))?;
    /// # let _ = layer;
    /// // Without base_url or allowed_hosts, DPoP is refused at build time.
    /// assert!(AuthLayer::new(Never).dpop(DpopConfig::new()).is_err());
    /// # Ok(()) }
    /// ```
    pub fn dpop(mut self, config: DpopConfig) -> Result<Self, BuildError> {
        self.dpop = Some(Arc::new(DpopVerifier::for_layer(config)?));
        Ok(self)
    }

    /// Accepts certificate-bound tokens (RFC 8705 mutual TLS): a token with `cnf.x5t#S256`
    /// is let through only when the request came with the client certificate of that
    /// thumbprint, taken from the [`ClientCertificate`](crate::mtls::ClientCertificate) request
    /// extension that the server's TLS acceptor inserts or, if configured, from the header of a
    /// trusted proxy. See the [`mtls`](crate::mtls) module for the rules.
    ///
    /// The validator checks the token as before (JWT or introspection); the layer checks the
    /// binding afterwards. Tokens without `cnf.x5t#S256` are not affected.
    ///
    /// ```
    /// use bearer_guard::{AuthLayer, mtls::MtlsConfig, Validator, validator::ValidationFuture, error::TokenError};
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> ValidationFuture { ValidationFuture::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// let layer = AuthLayer::new(Never).mtls(MtlsConfig::new());
    /// # let _ = layer;
    /// ```
    pub fn mtls(mut self, config: MtlsConfig) -> Self {
        self.mtls = Some(Arc::new(config));
        self
    }

    /// Takes tokens also from the places named in `sources` (a cookie, the `access_token`
    /// query parameter, a `Sec-WebSocket-Protocol` entry), besides the `Authorization`
    /// header. A request must present its token in one place only (else 400
    /// `invalid_request`); see the [`source`](crate::source) module for each place's rules.
    ///
    /// ```
    /// use bearer_guard::{AuthLayer, Validator, validator::ValidationFuture, error::TokenError};
    /// use bearer_guard::source::TokenSources;
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> ValidationFuture { ValidationFuture::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// let layer = AuthLayer::new(Never).token_sources(TokenSources::new().cookie("access_token"));
    /// # let _ = layer;
    /// ```
    pub fn token_sources(mut self, sources: TokenSources) -> Self {
        self.sources = sources;
        self
    }

    /// Refuses plain bearer tokens: only tokens bound to a DPoP key, to a client certificate,
    /// or either, pass (see [`SenderConstraint`] for the challenges). Turn on the binding
    /// checks the mode needs too ([`dpop`](Self::dpop), [`mtls`](Self::mtls)).
    ///
    /// ```
    /// use bearer_guard::auth::SenderConstraint;
    /// use bearer_guard::{AuthLayer, mtls::MtlsConfig, Validator, validator::ValidationFuture, error::TokenError};
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> ValidationFuture { ValidationFuture::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// let layer = AuthLayer::new(Never)
    ///     .mtls(MtlsConfig::new())
    ///     .require_sender_constraint(SenderConstraint::Mtls);
    /// # let _ = layer;
    /// ```
    pub fn require_sender_constraint(mut self, constraint: SenderConstraint) -> Self {
        self.required = Some(constraint);
        self
    }

    /// Lets CORS preflights through untouched: an `OPTIONS` request with `Origin` and
    /// `Access-Control-Request-Method` goes to the inner service without a token check (no
    /// [`Claims`](crate::Claims), no [`Anonymous`](super::Anonymous) marker). Browsers send
    /// preflights without credentials, so without this they get 401 and the real request is
    /// never made.
    ///
    /// Prefer putting tower-http's `CorsLayer` *outside* this layer, where it answers
    /// preflights before they get here; use this only when the CORS layer must sit inside
    /// (directly inside: a scope check in between would refuse the preflight). Other
    /// `OPTIONS` requests still need a token.
    ///
    /// ```
    /// use bearer_guard::{AuthLayer, Validator, validator::ValidationFuture, error::TokenError};
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> ValidationFuture { ValidationFuture::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// let layer = AuthLayer::new(Never).allow_preflight();
    /// # let _ = layer;
    /// ```
    pub fn allow_preflight(mut self) -> Self {
        self.allow_preflight = true;
        self
    }

    /// Whether the validator can decide tokens now ([`Validator::readiness`]).
    pub fn readiness(&self) -> Readiness {
        self.validator.readiness()
    }

    /// A readiness probe for this layer's validator (`200` / `503` with one line), to route
    /// at, say, `/readyz` outside the layer. See [readiness](crate::validator#readiness).
    pub fn readiness_service(&self) -> ReadinessService<V> {
        ReadinessService::from_arc(self.validator.clone())
    }

    /// Answers rejected requests with `handler` instead of [`DefaultErrorHandler`].
    pub fn error_handler<H2>(self, handler: H2) -> AuthLayer<V, H2> {
        AuthLayer {
            validator: self.validator,
            handler,
            challenge: self.challenge,
            optional: self.optional,
            dpop: self.dpop,
            mtls: self.mtls,
            sources: self.sources,
            required: self.required,
            allow_preflight: self.allow_preflight,
        }
    }

    /// The validator this layer uses.
    pub fn validator(&self) -> &Arc<V> {
        &self.validator
    }
}

impl<S, V, H: Clone> Layer<S> for AuthLayer<V, H> {
    type Service = Auth<S, V, H>;

    fn layer(&self, inner: S) -> Self::Service {
        let challenge = match &self.dpop {
            Some(dpop) => self
                .challenge
                .clone()
                .with_dpop_algs(dpop.algs().to_owned()),
            None => self.challenge.clone(),
        };
        // Bearer tokens refused: a request without credentials is offered DPoP only.
        let challenge = match self.required {
            Some(SenderConstraint::Dpop) => challenge.dpop_only(),
            _ => challenge,
        };
        let config = Config {
            handler: self.handler.clone(),
            dpop_challenge: challenge.clone().with_scheme(AuthScheme::DPoP),
            challenge,
            optional: self.optional,
            dpop: self.dpop.clone(),
            mtls: self.mtls.clone(),
            sources: self.sources.clone(),
            required: self.required,
            allow_preflight: self.allow_preflight,
        };
        Auth {
            inner,
            validator: self.validator.clone(),
            config: Arc::new(config),
        }
    }
}
