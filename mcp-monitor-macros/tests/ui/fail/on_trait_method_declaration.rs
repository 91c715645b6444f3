use mcp_monitor::monitor_db_operation;

trait Repository {
    #[monitor_db_operation("select", "users")]
    fn get_user(&self, id: i64) -> Result<i64, String>;
}

struct Users;

impl Repository for Users {
    fn get_user(&self, id: i64) -> Result<i64, String> {
        Ok(id)
    }
}

fn main() {
    let _ = Users.get_user(1);
}
