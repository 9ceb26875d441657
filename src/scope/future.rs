//! The response future of [`RequireScope`](super::RequireScope).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project::pin_project;

/// Response future of [`RequireScope`](super::RequireScope).
#[pin_project]
pub struct ResponseFuture<F, ResB> {
    #[pin]
    pub(super) state: State<F, ResB>,
}

#[pin_project(project = StateProj)]
pub(super) enum State<F, ResB> {
    Calling {
        #[pin]
        future: F,
    },
    Rejected {
        response: Option<Response<ResB>>,
    },
}

impl<F, ResB, E> Future for ResponseFuture<F, ResB>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Calling { future } => future.poll(cx),
            StateProj::Rejected { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => panic!("ResponseFuture polled after completion"),
            },
        }
    }
}
