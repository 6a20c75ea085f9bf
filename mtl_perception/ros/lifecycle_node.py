# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``perception_lifecycle_node``: the perception node as a managed (lifecycle) node.

For bring-up managers (Nav2's lifecycle manager, launch_ros ``LifecycleNode``): the node
starts unconfigured with its parameters declared; ``configure`` loads and warms up the
network, ``activate`` creates the publishers, subscriptions and timers, ``deactivate``
removes them (the model stays loaded), ``cleanup`` releases the model, ``shutdown`` does
both. Parameters that need the model reloaded can be set while unconfigured. A transition
that fails says why in one error line: a model that cannot be loaded, or parameters that do
not fit it (``depth_min`` beyond the model's range), fail ``configure`` and leave the node
unconfigured; anything unexpected in a transition is logged with its type, never silently.
"""

from __future__ import annotations

from collections.abc import Callable

from lifecycle_msgs.srv import ChangeState
from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.errors import ModelLoadError
from mtl_perception.ros.node import PerceptionCore
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class PerceptionLifecycleNode(PerceptionCore, LifecycleNode):
    """The perception node whose model and interfaces follow the lifecycle transitions."""

    def __init__(self, **node_options: object) -> None:
        super().__init__(NODE_NAME, **node_options)
        self._prepare(fixed_until='cleanup')
        self._answer_every_transition()

    def _answer_every_transition(self) -> None:
        """Answer a transition that is impossible in the current state with ``success=False``.

        rclpy before Kilted (Humble, Jazzy 7.x) raises ``RCLError: Transition is not
        registered`` from inside the ``change_state`` service for such a request (e.g.
        ``activate`` while unconfigured): the request is never answered and the exception
        ends the executor. The service's callback is wrapped so the request is checked
        against the transitions available now, refused with one log line, and answered.
        """
        service = self._service_change_state
        forward = service.callback

        def change_state(request: ChangeState.Request,
                         response: ChangeState.Response) -> ChangeState.Response:
            available = self._state_machine.available_transitions
            wanted = request.transition
            if not any(wanted.label == label if wanted.label else wanted.id == number
                       for number, label, *_ in available):
                state = self._state_machine.current_state[1]
                self.get_logger().error(
                    f'transition {wanted.label or wanted.id} refused: not possible from state '
                    f'{state} (possible: {", ".join(label for _, label, *_ in available)})')
                response.success = False
                return response
            return forward(request, response)

        service.callback = change_state

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and warm up the network; fail (stay unconfigured) if it cannot be loaded."""
        if not self._attempt('configure', self.configure_model):
            self.release_model()
            return FAILURE
        self.get_logger().info(f'configured: model {self.model_path} warmed up in '
                               f'{self.warm_up_ms:.0f} ms')
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start publishing and subscribing."""
        if not self._attempt('activate', self.open_interfaces):
            self.close_interfaces()
            return FAILURE
        return super().on_activate(state)

    def _attempt(self, transition: str, step: Callable[[], None]) -> bool:
        """Run ``step``; on failure log why in one line and return False."""
        try:
            step()
        except ModelLoadError as error:
            self.get_logger().error(f'{transition} failed: {error}')
            return False
        except Exception as error:  # noqa: B902  a transition must never fail silently
            self.get_logger().error(f'{transition} failed: {type(error).__name__}: {error}')
            return False
        return True

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop publishing and subscribing; keep the model."""
        self.close_interfaces()
        self.get_logger().info('deactivated: no subscriptions, no outputs')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the model."""
        self.release_model()
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything, from whichever state; the process then ends (exit 0)."""
        self.close_interfaces()
        self.release_model()
        self.server.frames.close()  # ends the serving loop
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Recover to unconfigured after a transition raised."""
        self.close_interfaces()
        self.release_model()
        return SUCCESS
