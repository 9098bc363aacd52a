# Soma tool policy (SPEC §6): may this capsule execute this tool now?
#
# Input: {action: "tool.execute", tenant, capsule: {id, tools, tool_policy}, user, tool, args, iteration}
#   capsule.tools                     the capsule's enabled tools
#   capsule.tool_policy.denied        tools never allowed
#   capsule.tool_policy.approval_required  tools allowed only once approved: listed in ...approved,
#                                     or this call approved by a person (input.approval.approved)
#   capsule.tool_policy.approved      tools an operator approved
#   approval                          {approved, by?}: a person's approval of this call (SPEC §13.4).
#                                     It only lifts the approval requirement: a denied, disabled or
#                                     unknown tool stays denied.
#
# Default deny: anything not matched below is refused. `reason` says why.
package soma.tools

default allow := false

allow if {
	input.action == "tool.execute"
	enabled
	not denied
	not awaiting_approval
}

tool_policy := object.get(input.capsule, "tool_policy", {})

enabled if input.tool in object.get(input.capsule, "tools", [])

denied if input.tool in object.get(tool_policy, "denied", [])

awaiting_approval if {
	input.tool in object.get(tool_policy, "approval_required", [])
	not input.tool in object.get(tool_policy, "approved", [])
	not approved_by_a_person
}

approved_by_a_person if object.get(object.get(input, "approval", {}), "approved", false) == true

reason := "allowed" if {
	allow
} else := sprintf("action %v is not governed by soma.tools (expected tool.execute)", [object.get(input, "action", null)]) if {
	not input.action == "tool.execute"
} else := sprintf("tool %v is not an enabled tool of capsule %v", [object.get(input, "tool", null), object.get(input.capsule, "id", null)]) if {
	not enabled
} else := sprintf("tool %v is denied by the capsule's tool policy", [input.tool]) if {
	denied
} else := sprintf("tool %v requires approval and has not been approved", [input.tool]) if {
	awaiting_approval
} else := "denied by default"
