//! The `local` target's wiring: the embedded emulator as the provider's in-process API. The
//! provider crate defines the trait and knows no server; the binary, which has both, joins them.

use std::sync::Arc;

use bytes::Bytes;
use intsync_emulator::{Emulator, Request};
use intsync_provider::{BoxError, InProcessAnswer, InProcessApi};

/// The embedded emulator, reached without a socket, with the token only this process knows.
pub struct LocalApi(pub Arc<Emulator>);

impl InProcessApi for LocalApi {
    fn call(
        &self,
        method: http::Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> Result<InProcessAnswer, BoxError> {
        let mut request = Request::new(method, path_and_query).bearer(self.0.token());
        if let Some(body) = body {
            request.body = body;
        }
        let response = self.0.call(request)?;
        Ok(InProcessAnswer {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }

    fn checkpoint(&self) -> Result<(), BoxError> {
        Ok(self.0.checkpoint()?)
    }
}
