//! information_schema relations that never hold rows in weir: it has no
//! foreign keys, functions of its own, sequences, triggers or check constraints.

pub const NAMES: &[&str] = &["referential_constraints", "routines", "sequences", "triggers", "check_constraints"];

pub fn columns(name: &str) -> Option<&'static str> {
    Some(match name {
        "referential_constraints" => {
            "constraint_catalog:name constraint_schema:name constraint_name:name unique_constraint_catalog:name \
            unique_constraint_schema:name unique_constraint_name:name match_option:text update_rule:text delete_rule:text"
        }
        "routines" => {
            "specific_catalog:name specific_schema:name specific_name:name routine_catalog:name routine_schema:name \
            routine_name:name routine_type:text data_type:text type_udt_name:name routine_body:text routine_definition:text \
            external_language:text is_deterministic:text"
        }
        "sequences" => {
            "sequence_catalog:name sequence_schema:name sequence_name:name data_type:text numeric_precision:int4 \
            numeric_precision_radix:int4 numeric_scale:int4 start_value:text minimum_value:text maximum_value:text increment:text \
            cycle_option:text"
        }
        "triggers" => {
            "trigger_catalog:name trigger_schema:name trigger_name:name event_manipulation:text event_object_catalog:name \
            event_object_schema:name event_object_table:name action_order:int4 action_condition:text action_statement:text \
            action_orientation:text action_timing:text"
        }
        "check_constraints" => "constraint_catalog:name constraint_schema:name constraint_name:name check_clause:text",
        _ => return None,
    })
}
